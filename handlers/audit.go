package handlers

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

const auditPageSize = 50

// showAuditPage lists the audit trail and checks its chain.
func (h *Handler) showAuditPage(c *gin.Context) {
	ctx := c.Request.Context()
	page, err := strconv.Atoi(c.DefaultQuery("page", "1"))
	if err != nil || page < 1 {
		page = 1
	}
	rows, total, err := models.ListAudit(ctx, h.db, models.AuditFilter{Limit: auditPageSize, Offset: (page - 1) * auditPageSize})
	if err != nil {
		h.fail(c, err)
		return
	}
	check, err := models.VerifyAuditChain(ctx, h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := views.AuditView{Rows: rows, Total: total, Check: check, Page: page}
	if page > 1 {
		v.PrevPage = page - 1
	}
	if int64(page*auditPageSize) < total {
		v.NextPage = page + 1
	}
	h.render(c, http.StatusOK, views.Audit(h.page(c, "audit.title"), v))
}
