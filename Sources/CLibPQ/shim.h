#ifndef DRIFT_CLIBPQ_SHIM_H
#define DRIFT_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <postgres_ext.h>

/* Diagnostic fields by name: PG_DIAG_* are character macros Swift does not import. */
static inline const char *drift_pq_sqlstate(const PGresult *r) { return PQresultErrorField(r, PG_DIAG_SQLSTATE); }
static inline const char *drift_pq_message(const PGresult *r) { return PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY); }
static inline const char *drift_pq_detail(const PGresult *r) { return PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL); }
static inline const char *drift_pq_hint(const PGresult *r) { return PQresultErrorField(r, PG_DIAG_MESSAGE_HINT); }

/* Server notices (e.g. "schema already exists, skipping") are not printed to stderr. */
static void drift_pq_ignore_notice(void *arg, const char *message) { (void)arg; (void)message; }
static inline void drift_pq_silence_notices(PGconn *conn) { PQsetNoticeProcessor(conn, drift_pq_ignore_notice, NULL); }
#endif
