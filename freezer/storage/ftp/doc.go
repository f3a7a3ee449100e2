// Package ftp is the backup.Storage on an FTP or explicit-TLS FTPS server
// (github.com/jlaffaye/ftp), with the local layout on the remote side, as
// upstream's ftp and ftps storages.
//
// Unlike upstream, nothing is spooled to local temporary files: uploads
// stream from the engine to STOR and downloads stream from RETR to the
// caller. Because an FTP server stores whatever arrived when a data
// connection closes, an upload goes to a hidden temporary name that is
// renamed into place only after the whole stream was sent and is deleted
// otherwise. Missing directories are created. Connections come from a small
// pool, since FTP runs one transfer per connection at a time.
package ftp
