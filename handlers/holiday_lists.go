package handlers

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// Official lists of public holidays (KASI special-day data, iCalendar, CSV)
// that an administrator imports for a year, reviews as a difference from
// the holidays in effect, and confirms; deadlines use a confirmed list from
// the instant it was confirmed (models.HolidayRecords).

// importHolidayList reads the uploaded list and shows its difference; a
// file that cannot be read re-renders the holidays page with the reason.
func (h *Handler) importHolidayList(c *gin.Context) {
	f := views.HolidayImportForm{Year: strings.TrimSpace(c.PostForm("year"))}
	errs := models.FieldErrors{}
	year, err := strconv.Atoi(f.Year)
	if err != nil || year < 2000 || year > 2100 {
		errs.Add("year", "holidays.import.error.year")
	}
	var data []byte
	var name string
	fh, err := c.FormFile("file")
	switch {
	case err != nil:
		errs.Add("file", "holidays.import.error.empty")
	case fh.Size > models.MaxHolidayFileBytes:
		errs.Add("file", "holidays.import.error.too_large")
	default:
		name = fh.Filename
		file, err := fh.Open()
		if err != nil {
			h.fail(c, err)
			return
		}
		data, err = io.ReadAll(io.LimitReader(file, models.MaxHolidayFileBytes+1))
		file.Close()
		if err != nil {
			h.fail(c, err)
			return
		}
	}
	if !errs.Any() {
		l, err := models.ImportHolidayList(c.Request.Context(), h.db, year, name, data, currentUser(c), h.now())
		var fe *models.HolidayFileError
		switch {
		case errors.As(err, &fe):
			errs.Add("file", fe.MessageID)
			f.Problem = fe
		case err != nil:
			h.fail(c, err)
			return
		default:
			c.Redirect(http.StatusSeeOther, "/admin/holidays/imports/"+strconv.FormatUint(uint64(l.ID), 10))
			return
		}
	}
	v, err := h.holidaysView(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	v.Import, v.ImportErrors = f, errs
	h.render(c, http.StatusUnprocessableEntity, views.Holidays(h.page(c, "holiday.title"), v))
}

// showHolidayListPage shows an imported list day by day against the
// holidays in effect, and the open appeal windows confirming it would move.
func (h *Handler) showHolidayListPage(c *gin.Context) {
	id, ok := idParam(c, "lid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	p, err := models.PreviewHolidayList(c.Request.Context(), h.db, id, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	v := views.HolidayListView{Preview: p, Now: h.now(), Done: c.Query("done")}
	h.render(c, http.StatusOK, views.HolidayListPage(h.page(c, "holidays.list.title"), v))
}

// confirmHolidayList makes the list the year's holidays from now on.
func (h *Handler) confirmHolidayList(c *gin.Context) {
	h.decideHolidayList(c, func(id uint) error {
		_, err := models.ConfirmHolidayList(c.Request.Context(), h.db, id, currentUser(c), h.now())
		return err
	}, "confirmed")
}

// discardHolidayList sets a pending list aside.
func (h *Handler) discardHolidayList(c *gin.Context) {
	h.decideHolidayList(c, func(id uint) error {
		return models.DiscardHolidayList(c.Request.Context(), h.db, id, currentUser(c), h.now())
	}, "discarded")
}

func (h *Handler) decideHolidayList(c *gin.Context, act func(uint) error, done string) {
	id, ok := idParam(c, "lid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	if err := act(id); err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/holidays/imports/"+strconv.FormatUint(uint64(id), 10)+"?done="+done)
}
