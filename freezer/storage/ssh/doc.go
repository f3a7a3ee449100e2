// Package ssh is the backup.Storage on a remote directory over SFTP
// (golang.org/x/crypto/ssh and github.com/pkg/sftp), with the same layout
// as local storage on the remote side, as upstream's ssh storage.
//
// The server's host key is checked against a known_hosts file
// (~/.ssh/known_hosts unless told otherwise); skipping the check takes an
// explicit option. Writes go to a temporary file in the target directory
// that is synced (when the server supports fsync@openssh.com) and renamed
// into place with posix-rename, so a failed or interrupted upload never
// leaves a partial object at the key.
package ssh
