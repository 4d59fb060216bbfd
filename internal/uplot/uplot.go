// Package uplot embeds uPlot, the chart library the HTML reports draw
// with, so a report carries it inline and opens offline.
//
// The files are uPlot 1.6.32's minified build (dist/uPlot.iife.min.js and
// dist/uPlot.min.css) as published on the npm registry (npm pack uplot),
// unchanged; uPlot is MIT-licensed (LICENSE beside them). See SOURCE.md.
package uplot

import _ "embed"

// JS is uPlot's minified script: it defines the global uPlot.
//
//go:embed uPlot.iife.min.js
var JS string

// CSS is uPlot's minified stylesheet.
//
//go:embed uPlot.min.css
var CSS string

// Version is the embedded uPlot's version.
const Version = "1.6.32"
