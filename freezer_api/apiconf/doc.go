// Package apiconf is freezer-api's configuration: the option schema of
// freezer-api.conf (upstream's section and option names, so operators'
// files load unchanged), command-line handling shared by freezer-api and
// freezer-manage (--config-file, --config-dir like oslo.config), and the
// typed Settings the programs wire their dependencies from.
package apiconf
