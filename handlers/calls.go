package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// calls: not built yet; answers 501 until it is.

func (h *Handler) showCallPage(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) showNewCallPage(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) createCall(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) showEditCallPage(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) updateCall(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }
