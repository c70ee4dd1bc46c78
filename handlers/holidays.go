package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// One-off public holidays (임시공휴일) that administrators add on top of the
// built-in table; they move appeal deadlines that are still open, never one
// that has closed (models.AppealWindowAsOf).

// showHolidaysPage lists the built-in holidays of this year and the next
// and the one-off ones, with the form to add one.
func (h *Handler) showHolidaysPage(c *gin.Context) {
	v, err := h.holidaysView(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	switch c.Query("done") {
	case "added":
		v.Done = "holiday.added"
	case "removed":
		v.Done = "holiday.removed"
	}
	h.render(c, http.StatusOK, views.Holidays(h.page(c, "holiday.title"), v))
}

// addHoliday records a one-off holiday; problems re-render the page with
// the input kept.
func (h *Handler) addHoliday(c *gin.Context) {
	f := views.HolidayForm{Date: c.PostForm("date"), NameKO: c.PostForm("name_ko"), NameEN: c.PostForm("name_en")}
	errs, err := models.CheckExtraHoliday(c.Request.Context(), h.db, f.Date, f.NameKO, f.NameEN, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	if !errs.Any() {
		_, err := models.AddExtraHoliday(c.Request.Context(), h.db, f.Date, f.NameKO, f.NameEN, currentUser(c), h.now())
		switch {
		case errors.Is(err, models.ErrConflict):
			errs.Add("date", "holiday.error.duplicate")
		case err != nil:
			h.fail(c, err)
			return
		default:
			c.Redirect(http.StatusSeeOther, "/admin/holidays?done=added")
			return
		}
	}
	v, err := h.holidaysView(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	v.Form, v.Errors = f, errs
	h.render(c, http.StatusUnprocessableEntity, views.Holidays(h.page(c, "holiday.title"), v))
}

// removeHoliday withdraws a standing one-off holiday; the row stays.
func (h *Handler) removeHoliday(c *gin.Context) {
	id, ok := idParam(c, "hid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	if err := models.RemoveExtraHoliday(c.Request.Context(), h.db, id, currentUser(c), h.now()); err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/holidays?done=removed")
}

// holidaysView loads the holidays in effect for this year and the next
// (KST) with where each year's come from, the imported lists, and every
// one-off holiday with who added or removed it.
func (h *Handler) holidaysView(c *gin.Context) (views.HolidaysView, error) {
	ctx := c.Request.Context()
	now := h.now()
	year := models.DateOf(now).Year
	v := views.HolidaysView{Now: now}
	r, err := models.LoadHolidayRecords(ctx, h.db)
	if err != nil {
		return v, err
	}
	cal := r.At(now)
	for _, y := range []int{year, year + 1} {
		if !cal.Covered(y) {
			v.Years = append(v.Years, views.HolidayYear{Year: y})
			continue
		}
		v.Years = append(v.Years, views.HolidayYear{Year: y, Holidays: cal.Year(y), Source: cal.Source(y)})
	}
	if v.Lists, err = models.ListHolidayLists(ctx, h.db); err != nil {
		return v, err
	}
	v.Import.Year = strconv.Itoa(year + 1)
	extras := r.Extras
	names := map[uint]string{}
	userName := func(id uint) (string, error) {
		if n, ok := names[id]; ok {
			return n, nil
		}
		u, err := models.GetUser(ctx, h.db, id)
		if errors.Is(err, models.ErrNotFound) {
			names[id] = "#" + strconv.FormatUint(uint64(id), 10)
			return names[id], nil
		} else if err != nil {
			return "", err
		}
		names[id] = u.DisplayName()
		return names[id], nil
	}
	for _, e := range extras {
		r := views.ExtraHolidayRow{Holiday: e}
		if r.AddedBy, err = userName(e.AddedByID); err != nil {
			return v, err
		}
		if e.RemovedByID != nil {
			if r.RemovedBy, err = userName(*e.RemovedByID); err != nil {
				return v, err
			}
		}
		v.Extras = append(v.Extras, r)
	}
	return v, nil
}
