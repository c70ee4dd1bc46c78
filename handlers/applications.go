package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// applications: not built yet; answers 501 until it is.

func (h *Handler) showMyApplicationsPage(c *gin.Context) {
	h.renderError(c, http.StatusNotImplemented, nil)
}

func (h *Handler) showNewApplicationPage(c *gin.Context) {
	h.renderError(c, http.StatusNotImplemented, nil)
}

func (h *Handler) createApplication(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) showApplicationPage(c *gin.Context) {
	h.renderError(c, http.StatusNotImplemented, nil)
}

func (h *Handler) updateApplication(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) addMember(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) removeMember(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) uploadDocument(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) downloadDocument(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) submitApplication(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) withdrawApplication(c *gin.Context) {
	h.renderError(c, http.StatusNotImplemented, nil)
}
