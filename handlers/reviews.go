package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// review and selection: not built yet; answers 501 until it is.

func (h *Handler) showCallApplicationsPage(c *gin.Context) {
	h.renderError(c, http.StatusNotImplemented, nil)
}

func (h *Handler) exportCallApplications(c *gin.Context) {
	h.renderError(c, http.StatusNotImplemented, nil)
}

func (h *Handler) assignReviewer(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) showMyReviewsPage(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) showReviewPage(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) declareConflict(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) saveScores(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) showRankingPage(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) publishDecision(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) showFollowUpPage(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }
