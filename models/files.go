package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Upload errors that handlers show to the user.
var (
	ErrUploadEmpty    = errors.New("upload is empty")
	ErrUploadTooLarge = errors.New("upload is too large")
	ErrUploadType     = errors.New("upload is not an accepted type of file")
	ErrUploadMissing  = errors.New("no file was sent")
)

// FileKind is the type of an uploaded file, decided by its content.
type FileKind string

// The kinds of file the portal accepts.
const (
	FilePDF  FileKind = "pdf"  // PDF
	FileHWP  FileKind = "hwp"  // 한글 (Hangul Word Processor) 5.x, an OLE2 compound file
	FileHWPX FileKind = "hwpx" // 한글 OWPML, a ZIP package like ODF
)

// StoredFile is the metadata of an uploaded file; its content lies in a
// FileStore under its SHA-256. Many rows may share one content.
type StoredFile struct {
	ID           uint     `gorm:"primaryKey"`
	SHA256       string   `gorm:"size:64;not null;index"`
	Name         string   `gorm:"size:255;not null"` // sanitised display name, at most 120 runes
	Size         int64    `gorm:"not null"`
	Kind         FileKind `gorm:"size:16;not null"`
	UploadedByID uint     `gorm:"not null;index"`
	CreatedAt    time.Time
}

// FileStore keeps file contents on disk addressed by their SHA-256:
// dir/ab/cd/abcd… for the hash abcd…. Writes are atomic (a temporary file in
// dir, synced and renamed), so a reader never sees half a file, and the same
// content is stored once.
type FileStore struct {
	dir string
	// mu orders Put's renames and the orphan sweep's removals, so that the
	// sweep never removes content that Put has just given a fresh time.
	mu sync.Mutex
}

// NewFileStore returns a store in dir, creating it (0750) if needed.
func NewFileStore(dir string) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("files: create %s: %w", dir, err)
	}
	return &FileStore{dir: dir}, nil
}

// tempPrefix starts the names of files being written, which live in the
// store's top directory, beside the two-hex-digit directories.
const tempPrefix = ".upload-"

// Put stores everything r yields and returns its SHA-256 (lower-case hex) and
// size. Content already stored is replaced by the new, identical copy, which
// gives it a fresh modification time: the orphan sweep, which removes only
// old content no row points to, then leaves it to the row about to point to
// it. On error nothing is left behind; a read error of r is returned
// wrapped, so that errors.Is finds ErrUploadTooLarge from CheckUpload's reader.
func (s *FileStore) Put(r io.Reader) (sha string, size int64, err error) {
	tmp, err := os.CreateTemp(s.dir, tempPrefix+"*")
	if err != nil {
		return "", 0, fmt.Errorf("files: create temporary file: %w", err)
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close() // a second close after success only returns an error
			os.Remove(tmp.Name())
		}
	}()

	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(tmp, h), r)
	if err != nil {
		return "", 0, fmt.Errorf("files: write: %w", err)
	}
	if err := tmp.Chmod(0o640); err != nil {
		return "", 0, fmt.Errorf("files: chmod: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, fmt.Errorf("files: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", 0, fmt.Errorf("files: close: %w", err)
	}
	sha = hex.EncodeToString(h.Sum(nil))

	final := s.path(sha)
	leaf := filepath.Dir(final)
	s.mu.Lock()
	err = os.MkdirAll(leaf, 0o750)
	if err == nil {
		// Renaming over a file already there is fine: its content is ours.
		err = os.Rename(tmp.Name(), final)
	}
	s.mu.Unlock()
	if err != nil {
		return "", 0, fmt.Errorf("files: store %s: %w", sha, err)
	}
	renamed = true
	// The new name, and any directory made for it, must survive a crash too.
	for _, d := range []string{leaf, filepath.Dir(leaf), s.dir} {
		if err := syncDir(d); err != nil {
			return "", 0, fmt.Errorf("files: sync %s: %w", d, err)
		}
	}
	return sha, size, nil
}

// Dir is the store's top directory.
func (s *FileStore) Dir() string { return s.dir }

// storedFile is one content file found in the store.
type storedFile struct {
	sha, path string
	size      int64
	modTime   time.Time
}

// walk calls content for each stored content (dir/ab/cd/abcd…) and temp for
// each file being written, or left behind, in the top directory. Anything
// else is left alone.
func (s *FileStore) walk(content, temp func(storedFile) error) error {
	return filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.dir, path)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if d.IsDir() {
			if rel != "." && (len(parts) > 2 || len(parts[len(parts)-1]) != 2) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed meanwhile
		}
		if err != nil {
			return err
		}
		f := storedFile{sha: d.Name(), path: path, size: info.Size(), modTime: info.ModTime()}
		switch {
		case len(parts) == 1 && (strings.HasPrefix(d.Name(), tempPrefix) || strings.HasPrefix(d.Name(), readyPrefix)):
			return temp(f)
		case len(parts) == 3 && validSHA256(f.sha) && parts[0] == f.sha[0:2] && parts[1] == f.sha[2:4]:
			return content(f)
		}
		return nil
	})
}

// CountContents counts the contents stored, temporary files aside.
func (s *FileStore) CountContents() (int, error) {
	n := 0
	err := s.walk(func(storedFile) error { n++; return nil }, func(storedFile) error { return nil })
	if err != nil {
		return 0, fmt.Errorf("files: count %s: %w", s.dir, err)
	}
	return n, nil
}

// OrphanSweep counts what SweepOrphans removed.
type OrphanSweep struct {
	Contents    int   // stored contents that no row pointed to
	Temporaries int   // files left half-written by an upload or a readiness probe
	Bytes       int64 // their total size
}

// SweepOrphans removes what was last written before the cutoff and is no
// longer wanted: stored contents whose SHA-256 no stored_files row names
// (their filing never committed), and temporary files. A content that a row
// names is never removed, however old; nor is one written after the cutoff,
// which may belong to a filing still in progress.
func (s *FileStore) SweepOrphans(ctx context.Context, db *gorm.DB, before time.Time) (OrphanSweep, error) {
	var sw OrphanSweep
	var old []storedFile
	remove := func(f storedFile, n *int) error {
		err := os.Remove(f.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		*n++
		sw.Bytes += f.size
		return nil
	}
	err := s.walk(func(f storedFile) error {
		if f.modTime.Before(before) {
			old = append(old, f)
		}
		return ctx.Err()
	}, func(f storedFile) error {
		if !f.modTime.Before(before) {
			return nil
		}
		return remove(f, &sw.Temporaries)
	})
	if err != nil {
		return sw, fmt.Errorf("files: sweep %s: %w", s.dir, err)
	}
	const batch = 500
	for chunk := range slices.Chunk(old, batch) {
		shas := make([]string, len(chunk))
		for i, f := range chunk {
			shas[i] = f.sha
		}
		var named []string
		if err := db.WithContext(ctx).Model(&StoredFile{}).Distinct("sha256").Where("sha256 IN ?", shas).Pluck("sha256", &named).Error; err != nil {
			return sw, fmt.Errorf("files: sweep: read file rows: %w", err)
		}
		for _, f := range chunk {
			if slices.Contains(named, f.sha) {
				continue
			}
			if err := s.removeIfOld(f, before, func(f storedFile) error { return remove(f, &sw.Contents) }); err != nil {
				return sw, fmt.Errorf("files: sweep: %w", err)
			}
		}
	}
	return sw, nil
}

// removeIfOld removes f unless Put has stored it again since it was seen.
func (s *FileStore) removeIfOld(f storedFile, before time.Time, remove func(storedFile) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !info.ModTime().Before(before) {
		return nil
	}
	f.size = info.Size()
	return remove(f)
}

// syncDir makes a directory's entries durable. Windows cannot sync a
// directory and does not need to.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

// Open opens the stored content with the given SHA-256. A hash that is not
// 64 lower-case hex digits (which also keeps path tricks out) or that is
// not stored is ErrNotFound.
func (s *FileStore) Open(sha string) (*os.File, error) {
	if !validSHA256(sha) {
		return nil, fmt.Errorf("files: open %q: not a sha256: %w", sha, ErrNotFound)
	}
	f, err := os.Open(s.path(sha))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("files: open %s: %w", sha, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("files: open %s: %w", sha, err)
	}
	return f, nil
}

// path is where content with the given (valid) hash lives.
func (s *FileStore) path(sha string) string {
	return filepath.Join(s.dir, sha[0:2], sha[2:4], sha)
}

func validSHA256(sha string) bool {
	if len(sha) != 64 {
		return false
	}
	for i := range len(sha) {
		c := sha[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Save checks an upload against the policy, stores its content and inserts
// its StoredFile row with db (a transaction, if the caller is in one). If the
// insert fails the content stays on disk: other rows may share it, and an
// unreferenced content is harmless.
func (s *FileStore) Save(ctx context.Context, db *gorm.DB, name string, r io.Reader, p UploadPolicy,
	uploadedBy uint, now time.Time) (*StoredFile, error) {
	up, body, err := CheckUpload(name, r, p)
	if err != nil {
		return nil, err
	}
	sha, size, err := s.Put(ctxReader{ctx: ctx, r: body})
	if err != nil {
		return nil, err
	}
	f := &StoredFile{SHA256: sha, Name: up.Name, Size: size, Kind: up.Kind, UploadedByID: uploadedBy, CreatedAt: now}
	if err := db.WithContext(ctx).Create(f).Error; err != nil {
		return nil, fmt.Errorf("store: insert file %s: %w", sha, err)
	}
	return f, nil
}

// ctxReader stops reading once its context is done, so that an abandoned
// request stops writing to disk.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// UploadedFile is a file as a form sent it: the name the browser gave, the
// size it announced, and Open, which opens its content anew on each call.
type UploadedFile struct {
	Name string
	Size int64
	Open func() (io.ReadCloser, error)
}

// UploadPolicy says what an upload field accepts.
type UploadPolicy struct {
	MaxBytes int64      // largest accepted size; must be positive
	Allowed  []FileKind // kinds accepted; an empty list accepts none
}

// Upload is what CheckUpload learned about an upload before its body is read.
type Upload struct {
	Name string   // sanitised display name whose extension matches Kind
	Kind FileKind // sniffed from the content
}

// sniffLen is how much of an upload is read to decide its kind: enough for a
// ZIP local header with a long extra field.
const sniffLen = 4096

// CheckUpload reads the head of r, decides the kind of file from it and checks
// it against p. It returns the upload's description and a reader that yields
// the whole content (head included) and fails with ErrUploadTooLarge as soon
// as more than p.MaxBytes bytes come, so that the size is enforced while the
// content is streamed, not after. Errors wrap ErrUploadEmpty,
// ErrUploadTooLarge or ErrUploadType.
//
// The name is only for display: it is sanitised, and given the extension of
// the sniffed kind if it has another one, but it never decides the kind.
func CheckUpload(name string, r io.Reader, p UploadPolicy) (Upload, io.Reader, error) {
	if p.MaxBytes <= 0 {
		return Upload{}, nil, fmt.Errorf("files: upload policy without a size limit")
	}
	lr := io.LimitReader(r, p.MaxBytes+1)
	head := make([]byte, min(sniffLen, p.MaxBytes+1))
	n, err := io.ReadFull(lr, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Upload{}, nil, fmt.Errorf("files: read upload: %w", err)
	}
	head = head[:n]
	switch {
	case n == 0:
		return Upload{}, nil, ErrUploadEmpty
	case int64(n) > p.MaxBytes:
		return Upload{}, nil, fmt.Errorf("%w: more than %d bytes", ErrUploadTooLarge, p.MaxBytes)
	}
	kind, ok := SniffKind(head)
	if !ok {
		return Upload{}, nil, fmt.Errorf("%w: content is none of PDF, HWP or HWPX", ErrUploadType)
	}
	if !slices.Contains(p.Allowed, kind) {
		return Upload{}, nil, fmt.Errorf("%w: %s is not accepted here", ErrUploadType, kind)
	}
	body := &capReader{r: io.MultiReader(bytes.NewReader(head), lr), left: p.MaxBytes}
	return Upload{Name: nameWithKind(name, kind), Kind: kind}, body, nil
}

// capReader yields at most left bytes and then ErrUploadTooLarge if r has
// more. It reads from a LimitReader of one byte more than the cap, so it never
// reads far past the limit.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, ErrUploadTooLarge
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n + int(c.left), ErrUploadTooLarge
	}
	return n, err
}

// nameWithKind sanitises a display name and makes its extension that of the
// kind ("보고서" → "보고서.pdf", "report.pdf" of HWP content → "report.pdf.hwp").
func nameWithKind(name string, kind FileKind) string {
	clean := SanitizeFileName(name)
	if strings.EqualFold(fileExt(clean), "."+string(kind)) {
		return clean
	}
	return SanitizeFileName(clean + "." + string(kind))
}

// Magic numbers of the accepted kinds.
var (
	magicPDF     = []byte("%PDF-")
	magicOLE2    = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	magicZIP     = []byte("PK\x03\x04")
	hwpxMime     = []byte("application/hwp+zip")
	hwpxMimeName = []byte("mimetype")
)

// SniffKind decides the kind of a file from its first bytes, never from its
// name:
//   - PDF starts with "%PDF-" (readers tolerate junk before it; we do not).
//   - HWP 5.x is an OLE2 compound file. Any OLE2 file is taken as HWP: telling
//     it from a .doc or .xls would mean reading the compound file's directory,
//     which may lie anywhere in the file. The signature alone already refuses
//     images, text, executables and every other non-OLE2 format.
//   - HWPX is a ZIP whose first entry is named "mimetype", stored
//     uncompressed, with the content "application/hwp+zip" (the ODF/EPUB
//     convention). A plain ZIP, .docx or .odt is refused.
func SniffKind(head []byte) (FileKind, bool) {
	switch {
	case bytes.HasPrefix(head, magicPDF):
		return FilePDF, true
	case bytes.HasPrefix(head, magicOLE2):
		return FileHWP, true
	case bytes.HasPrefix(head, magicZIP) && isHWPX(head):
		return FileHWPX, true
	}
	return "", false
}

// isHWPX checks the first ZIP local file header (signature, version, flags,
// method, time, date, CRC-32, compressed size, uncompressed size, name length,
// extra length, then name, extra and data) for the HWPX mimetype entry.
func isHWPX(head []byte) bool {
	const fixed = 30
	if len(head) < fixed {
		return false
	}
	flags := binary.LittleEndian.Uint16(head[6:])
	method := binary.LittleEndian.Uint16(head[8:])
	csize := binary.LittleEndian.Uint32(head[18:])
	usize := binary.LittleEndian.Uint32(head[22:])
	nameLen := int(binary.LittleEndian.Uint16(head[26:]))
	extraLen := int(binary.LittleEndian.Uint16(head[28:]))
	if method != 0 || flags&0x1 != 0 { // stored, not encrypted
		return false
	}
	// With a data descriptor (flag bit 3) the sizes come after the data and
	// are zero here; otherwise they must be the mimetype's length.
	if flags&0x8 == 0 && (csize != uint32(len(hwpxMime)) || usize != uint32(len(hwpxMime))) {
		return false
	}
	rest := head[fixed:]
	if len(rest) < nameLen+extraLen+len(hwpxMime) {
		return false
	}
	if !bytes.Equal(rest[:nameLen], hwpxMimeName) {
		return false
	}
	return bytes.HasPrefix(rest[nameLen+extraLen:], hwpxMime)
}

// maxNameRunes is the longest display name SanitizeFileName returns.
const maxNameRunes = 120

// SanitizeFileName makes an uploaded file's name safe to show and to offer
// for download: it keeps only the last path element (after / or \), drops
// control and invisible formatting characters (such as the right-to-left
// override that disguises "exe.pdf") and those Windows forbids (<>:"/\|?*),
// collapses white space to single spaces, trims dots and spaces at the ends,
// prefixes Windows device names (CON, NUL, COM1…) with "_", and cuts the
// name to 120 runes keeping its extension. Hangul and other letters are kept.
// When nothing is left the name is "file" plus the extension, if any.
//
//	"../../etc/passwd" → "passwd", "..\\..\\boot.ini" → "boot.ini", "???.pdf" → "file.pdf"
func SanitizeFileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), strings.ContainsRune(`<>:"/\|?*`, r):
			return -1
		}
		return r
	}, name)
	name = strings.Join(strings.Fields(name), " ")
	// Leading dots stay until the extension is split off, so that ".pdf" is an
	// extension without a name rather than a name.
	name = strings.TrimRight(name, ". ")

	ext := fileExt(name)
	base := strings.Trim(name[:len(name)-len(ext)], ". ")
	if isDeviceName(base) {
		base = "_" + base
	}
	if room := maxNameRunes - utf8.RuneCountInString(ext); utf8.RuneCountInString(base) > room {
		base = strings.TrimRight(string([]rune(base)[:room]), ". ")
	}
	if base == "" {
		base = "file"
	}
	return base + ext
}

// fileExt returns the extension of name, dot included: the part after the
// last dot if it is 1 to 10 ASCII letters or digits, else "".
func fileExt(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return ""
	}
	ext := name[i+1:]
	if ext == "" || len(ext) > 10 {
		return ""
	}
	for j := range len(ext) {
		c := ext[j]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return ""
		}
	}
	return name[i:]
}

// isDeviceName reports whether Windows reserves base (up to its first dot)
// for a device.
func isDeviceName(base string) bool {
	stem, _, _ := strings.Cut(base, ".")
	switch strings.ToUpper(strings.TrimSpace(stem)) {
	case "CON", "PRN", "AUX", "NUL",
		"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return true
	}
	return false
}
