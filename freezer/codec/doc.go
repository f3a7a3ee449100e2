// Package codec holds the stream transforms between an engine and a
// storage: the compressors (gzip, zlib, bzip2, xz, zstd, none) and the two
// encryption formats, upstream's OpenSSL "enc -aes-256-cfb" stream
// ("openssl") and our authenticated chunked-AEAD stream ("fzae1"), plus
// Chain, which composes them in the order the on-storage format requires:
// compress, then encrypt; on restore decrypt, then decompress.
//
// Every codec is a backup.Codec and every name here is written into backup
// metadata, so a name is never reused for a different format: a changed
// format gets a new name. The registries are explicit maps built in this
// package's registry.go; nothing registers itself.
//
// Everything streams. No codec holds more than a bounded window of the
// stream (a compression block, one AEAD chunk), and hostile input yields an
// error from Read, never a panic or unbounded allocation.
package codec
