package handlers

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// showDowntimePage lists a cluster's downtime windows; officers and
// administrators also get the form to record one.
func (h *Handler) showDowntimePage(c *gin.Context) {
	cl, ok := h.loadCluster(c)
	if !ok {
		return
	}
	h.renderDowntime(c, http.StatusOK, cl, views.DowntimeView{Form: models.DowntimeInput{Kind: models.DowntimeMaintenance}})
}

func (h *Handler) renderDowntime(c *gin.Context, status int, cl *models.Cluster, v views.DowntimeView) {
	ds, err := models.ListDowntimes(c.Request.Context(), h.db, cl.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	v.Cluster, v.Downtimes, v.CanRecord = cl, ds, currentUser(c).Role.IsMinistry()
	if v.Errors == nil {
		v.Errors = models.FieldErrors{}
	}
	if v.ImportErrors == nil {
		v.ImportErrors = models.FieldErrors{}
	}
	h.render(c, status, views.Downtime(h.page(c, "gpu.downtime.title"), v))
}

// recordDowntime records a downtime window (audited), or shows the form
// again with what is wrong.
func (h *Handler) recordDowntime(c *gin.Context) {
	cl, ok := h.loadCluster(c)
	if !ok {
		return
	}
	in := models.DowntimeInput{ClusterID: cl.ID, Start: c.PostForm("start"), End: c.PostForm("end"),
		Kind: c.PostForm("kind"), Reason: c.PostForm("reason"), Scope: c.PostForm("scope"), Targets: c.PostForm("targets")}
	_, errs, err := models.CreateDowntime(c.Request.Context(), h.db, in, currentUser(c), h.now())
	switch {
	case errors.Is(err, models.ErrInvalid):
		h.renderDowntime(c, http.StatusUnprocessableEntity, cl, views.DowntimeView{Form: in, Errors: errs})
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/gpus/clusters/%d/downtime", cl.ID))
}

// importDowntime records the downtime windows of a CSV file (audited), all
// or none, or names the first wrong line.
func (h *Handler) importDowntime(c *gin.Context) {
	cl, ok := h.loadCluster(c)
	if !ok {
		return
	}
	bad := func(line int, msg string) {
		h.renderDowntime(c, http.StatusUnprocessableEntity, cl, views.DowntimeView{Form: models.DowntimeInput{Kind: models.DowntimeMaintenance},
			ImportErrors: models.FieldErrors{"file": msg}, ImportLine: line})
	}
	fh, err := c.FormFile("file")
	switch {
	case err != nil:
		bad(0, "gpu.downtime.import.empty")
		return
	case fh.Size > models.MaxDowntimeFileBytes:
		bad(0, "gpu.downtime.import.too_large")
		return
	}
	file, err := fh.Open()
	if err != nil {
		h.fail(c, err)
		return
	}
	data, err := io.ReadAll(io.LimitReader(file, models.MaxDowntimeFileBytes+1))
	file.Close()
	if err != nil {
		h.fail(c, err)
		return
	}
	_, err = models.ImportDowntimes(c.Request.Context(), h.db, cl.ID, fh.Filename, data, currentUser(c), h.now())
	var fe *models.DowntimeFileError
	switch {
	case errors.As(err, &fe):
		bad(fe.Line, fe.MessageID)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/gpus/clusters/%d/downtime", cl.ID))
}
