package handlers

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"
)

// exportTable is a list as officers and auditors take it away: a header
// row and rows of strings and numbers.
type exportTable struct {
	Header []string
	Rows   [][]any
}

// utf8BOM makes Excel read a CSV file as UTF-8, so Korean names show right.
const utf8BOM = "\ufeff"

// writeCSV writes the table as UTF-8 CSV with a byte-order mark. Text that
// a spreadsheet would take for a formula (=, +, -, @ first) is prefixed with
// an apostrophe, so an applicant's title cannot run in an officer's Excel.
func writeCSV(w io.Writer, t exportTable) error {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(t.Header); err != nil {
		return err
	}
	for _, row := range t.Rows {
		rec := make([]string, len(row))
		for i, cell := range row {
			rec[i] = csvCell(cell)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvCell(v any) string {
	switch x := v.(type) {
	case string:
		if x != "" && strings.ContainsRune("=+-@\t\r", rune(x[0])) {
			return "'" + x
		}
		return x
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// xlsxBytes writes the table as an XLSX workbook with one sheet. Strings are
// stored as text cells, never as formulas.
func xlsxBytes(sheet string, t exportTable) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
		return nil, fmt.Errorf("export: xlsx: %w", err)
	}
	header := make([]any, len(t.Header))
	for i, h := range t.Header {
		header[i] = h
	}
	if err := f.SetSheetRow(sheet, "A1", &header); err != nil {
		return nil, fmt.Errorf("export: xlsx: %w", err)
	}
	if bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err == nil && len(t.Header) > 0 {
		last, _ := excelize.CoordinatesToCellName(len(t.Header), 1)
		_ = f.SetCellStyle(sheet, "A1", last, bold)
	}
	for i, row := range t.Rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		r := row
		if err := f.SetSheetRow(sheet, cell, &r); err != nil {
			return nil, fmt.Errorf("export: xlsx: %w", err)
		}
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, fmt.Errorf("export: xlsx: %w", err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("export: xlsx: %w", err)
	}
	return buf.Bytes(), nil
}

// sendTable answers an export: the table as CSV (with BOM) when format is
// "csv", else as an XLSX workbook of one sheet, as a download named name.
func (h *Handler) sendTable(c *gin.Context, format, name, sheet string, table exportTable) {
	if format == "csv" {
		setDownloadHeaders(c, attachment{name: name, fallback: name, contentType: "text/csv; charset=utf-8"})
		c.Status(http.StatusOK)
		if err := writeCSV(c.Writer, table); err != nil {
			h.log.Error("export csv", "request_id", c.GetString(keyRequestID), "err", err)
		}
		return
	}
	body, err := xlsxBytes(sheet, table)
	if err != nil {
		h.fail(c, err)
		return
	}
	const xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	setDownloadHeaders(c, attachment{name: name, fallback: name, contentType: xlsx})
	c.Data(http.StatusOK, xlsx, body)
}
