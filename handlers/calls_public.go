package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// showCallsPage is the public list of calls: open, upcoming and closed at
// the server's clock, each card linking to the call's notice.
func (h *Handler) showCallsPage(c *gin.Context) {
	calls, err := models.ListCalls(c.Request.Context(), h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.callsChange(c, calls)
	now := h.now()
	v := views.CallListView{Groups: models.GroupCalls(calls, now), Now: now}
	h.render(c, http.StatusOK, views.CallList(h.page(c, "calls.title"), v))
}
