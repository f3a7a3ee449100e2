package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// A project's job generation is a row in job_generations that every
// transaction writing the project's jobs, actions or sessions bumps
// (jobsTx), in the same transaction: a reader that finds it unchanged
// knows that no job read of the project can answer differently. The job
// cache (package jobcache) is built on that rule; JobGeneration is its
// read.

// jobsTx is inTx for a transaction that writes jobs, actions or sessions
// of projectID: it first bumps the project's job generation, so that
// cached job reads of the project are recomputed once it commits. First,
// so that every such transaction takes the generation row's lock before
// any other: the lock order is the same in all of them (no deadlock), and
// the project's job writes are serialised, which they are rare enough to
// afford.
func (s *Store) jobsTx(ctx context.Context, projectID string, fn func(tx *sqlx.Tx) error) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.bumpJobGeneration(ctx, tx, projectID); err != nil {
			return err
		}
		return fn(tx)
	})
}

func (s *Store) bumpJobGeneration(ctx context.Context, tx *sqlx.Tx, projectID string) error {
	// A new row starts at a random value rather than 1: if the table is
	// ever emptied (db remove and sync under a running API), a project's
	// new generations do not repeat the old ones that cached entries hold.
	first := randomGeneration()
	q := `INSERT INTO job_generations (project_id, gen) VALUES (?, ?) ON CONFLICT (project_id) DO UPDATE SET gen = gen + 1`
	if s.dialect == MySQL {
		q = `INSERT INTO job_generations (project_id, gen) VALUES (?, ?) ON DUPLICATE KEY UPDATE gen = gen + 1`
	}
	if _, err := tx.ExecContext(ctx, q, projectID, first); err != nil {
		return fmt.Errorf("bumping the job generation: %w", err)
	}
	return nil
}

func randomGeneration() int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err)) // crypto/rand never fails on Linux
	}
	// Positive and far from overflowing when bumped.
	return int64(binary.LittleEndian.Uint64(b[:]) >> 2)
}

// JobGeneration reads the project's job generation: it changes with every
// committed write of the project's jobs, actions or sessions. 0 when the
// project has had no such write since the table was created.
func (s *Store) JobGeneration(ctx context.Context, projectID string) (int64, error) {
	rows, err := s.query(ctx, "SELECT gen FROM job_generations WHERE project_id = ?", projectID)
	if err != nil {
		return 0, fmt.Errorf("reading the job generation: %w", err)
	}
	defer rows.Close()
	var gen int64
	if rows.Next() {
		if err := rows.Scan(&gen); err != nil {
			return 0, fmt.Errorf("reading the job generation: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("reading the job generation: %w", err)
	}
	return gen, nil
}
