package handlers

import (
	"errors"
	"fmt"
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
	h.renderDowntime(c, http.StatusOK, cl, models.DowntimeInput{Kind: models.DowntimeMaintenance}, models.FieldErrors{})
}

func (h *Handler) renderDowntime(c *gin.Context, status int, cl *models.Cluster, form models.DowntimeInput, errs models.FieldErrors) {
	ds, err := models.ListDowntimes(c.Request.Context(), h.db, cl.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	role := currentUser(c).Role
	h.render(c, status, views.Downtime(h.page(c, "gpu.downtime.title"), views.DowntimeView{Cluster: cl, Downtimes: ds,
		CanRecord: role == models.RoleOfficer || role == models.RoleAdmin, Form: form, Errors: errs}))
}

// recordDowntime records a downtime window (audited), or shows the form
// again with what is wrong.
func (h *Handler) recordDowntime(c *gin.Context) {
	cl, ok := h.loadCluster(c)
	if !ok {
		return
	}
	in := models.DowntimeInput{ClusterID: cl.ID, Start: c.PostForm("start"), End: c.PostForm("end"),
		Kind: c.PostForm("kind"), Reason: c.PostForm("reason")}
	_, errs, err := models.CreateDowntime(c.Request.Context(), h.db, in, currentUser(c), h.now())
	switch {
	case errors.Is(err, models.ErrInvalid):
		h.renderDowntime(c, http.StatusUnprocessableEntity, cl, in, errs)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/gpus/clusters/%d/downtime", cl.ID))
}
