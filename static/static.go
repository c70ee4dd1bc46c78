// Package static embeds the portal's stylesheets, scripts, fonts and images,
// its own and the vendored ones, and serves them under a checksum path so
// browsers may cache them for a year.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

// Of KRDS, the pages load portal.css, the part of its component stylesheet
// they can use (cmd/krdscss), which imports the tokens and names the icons;
// the whole output.css stays beside it as that command's source.
//
//go:embed css js vendor/krds-uiux/css/token vendor/krds-uiux/css/component/portal.css vendor/krds-uiux/img vendor/krds-uiux/package.json vendor/pretendard-gov vendor/uplot
var files embed.FS

// FS is the tree of static files.
var FS fs.FS = files

// Hash is a short checksum of every embedded file: it changes whenever any
// asset changes, so /static/<Hash>/… URLs can be cached for good.
var Hash = func() string {
	h := sha256.New()
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		panic("static: " + err.Error())
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}()
