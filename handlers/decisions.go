package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// public decisions: not built yet; answers 501 until it is.

func (h *Handler) showDecisionsPage(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }

func (h *Handler) showDecisionPage(c *gin.Context) { h.renderError(c, http.StatusNotImplemented, nil) }
