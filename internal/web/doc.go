// Package web is deling's HTTP face: the route table (routes.go), the
// middleware every request passes through (correlation id, metrics, access
// log, panic recovery), health and readiness, and the one mapping from errors
// to problem+json responses.
package web
