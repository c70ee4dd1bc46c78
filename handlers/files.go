package handlers

import (
	"io"
	"mime/multipart"

	"kaiportal/models"
)

// Files sent with a form, as the models read them.

// uploadedFile is a form's file part as the models read it.
func uploadedFile(fh *multipart.FileHeader) models.UploadedFile {
	return models.UploadedFile{Name: fh.Filename, Size: fh.Size, Open: func() (io.ReadCloser, error) { return fh.Open() }}
}
