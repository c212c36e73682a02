// Package docs holds the project's documentation, Markdown pages beside
// this file. It has no code: its test checks that the repository's Go and
// Markdown files cite only pages and files that exist in the repository.
package docs
