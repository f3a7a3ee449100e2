// Package schedule turns a freezer job's job_schedule into a trigger that
// says when the job runs next.
//
// The rules follow what upstream freezer-scheduler asks of APScheduler:
// schedule_date gives a one-shot date trigger, schedule_interval an interval
// trigger ("continuous" is every second), the schedule_<field> keys a cron
// trigger with APScheduler's field syntax and defaults, and a schedule with
// none of these runs once, two seconds after it is seen. A start date in the
// past is moved to two seconds from now and an end date before the start
// date is dropped, as upstream does. Missed runs are coalesced into one and
// a run more than the misfire grace late is skipped (see Due).
//
// Nothing here reads the clock: callers pass "now", so every rule can be
// tested at any instant.
package schedule
