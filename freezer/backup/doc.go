// Package backup holds the agent's core types and the interfaces at its
// boundaries: Storage (where objects go), Engine (a source becomes an archive
// stream and back) and Codec (a stream transform: compression, encryption).
// It also owns the on-storage layout, the compatibility contract with the
// Python agent: key names, the per-backup metadata object and the rules that
// pick levels and chains. It does no I/O of its own.
package backup
