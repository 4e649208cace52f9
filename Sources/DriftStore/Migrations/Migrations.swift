/// The schema, as versioned migrations shipped inside the binary. `{{schema}}` is replaced by the
/// quoted schema name. Never edit an applied migration: add a new one (the checksum is recorded).
public enum Migrations {
    public struct Migration: Sendable {
        public var version: Int
        public var name: String
        public var sql: String
    }

    public static let all: [Migration] = [
        Migration(
            version: 1, name: "capture_events",
            sql: """
                -- Captured inference inputs/outputs, range-partitioned by observation time (daily partitions).
                CREATE TABLE {{schema}}.capture_events (
                    id             bigint GENERATED ALWAYS AS IDENTITY,
                    model          text        NOT NULL,
                    model_version  text        NOT NULL DEFAULT '',
                    role           text        NOT NULL DEFAULT 'champion' CHECK (role IN ('champion', 'challenger', 'unknown')),
                    request_id     text        NOT NULL DEFAULT '',
                    kind           text        NOT NULL CHECK (kind IN ('request', 'response', 'paired')),
                    observed_at    timestamptz NOT NULL,
                    -- uniform in [0, 1): ORDER BY sample_key LIMIT n is a uniform random sample of a window
                    sample_key     float8      NOT NULL DEFAULT random(),
                    numeric        float8[]    NOT NULL DEFAULT '{}',
                    categorical    text[]      NOT NULL DEFAULT '{}',
                    payload        jsonb,
                    ingested_at    timestamptz NOT NULL DEFAULT now()
                ) PARTITION BY RANGE (observed_at);
                -- An append-only log: no primary key index to maintain on every insert (id is still unique).
                -- Serves the window sample: WHERE model = $1 AND observed_at >= $2 AND observed_at < $3 ORDER BY sample_key LIMIT $4
                CREATE INDEX capture_events_window_sample ON {{schema}}.capture_events (model, observed_at, sample_key);
                -- Serves the same sample when the window is most of a partition: walk sample_key order, keep rows in the window.
                CREATE INDEX capture_events_sample_order ON {{schema}}.capture_events (model, sample_key) INCLUDE (observed_at);
                """),
        Migration(
            version: 2, name: "monitors_profiles_runs",
            sql: """
                -- Monitor configurations, one row per distinct configuration (by hash).
                CREATE TABLE {{schema}}.monitors (
                    name        text        NOT NULL,
                    config_hash text        NOT NULL,
                    config      jsonb       NOT NULL,
                    created_at  timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (name, config_hash)
                );
                -- Reference profiles, built once per monitor and reference version.
                CREATE TABLE {{schema}}.reference_profiles (
                    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    monitor     text        NOT NULL,
                    version     text        NOT NULL,
                    format      int         NOT NULL,
                    profile     bytea       NOT NULL,
                    created_at  timestamptz NOT NULL DEFAULT now(),
                    UNIQUE (monitor, version)
                );
                -- One drift check per monitor and window; the unique key makes a retried check unable to write twice.
                CREATE TABLE {{schema}}.drift_runs (
                    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    monitor         text        NOT NULL,
                    config_hash     text        NOT NULL,
                    window_start    timestamptz NOT NULL,
                    window_end      timestamptz NOT NULL CHECK (window_end > window_start),
                    status          text        NOT NULL CHECK (status IN ('completed', 'insufficient_data', 'failed')),
                    drifted         boolean,
                    reference_count int         NOT NULL DEFAULT 0,
                    current_count   int         NOT NULL DEFAULT 0,
                    feature_count   int         NOT NULL DEFAULT 0,
                    drifted_count   int         NOT NULL DEFAULT 0,
                    drifted_share   float8,
                    correlation     jsonb,
                    decision        jsonb       NOT NULL DEFAULT '{}',
                    created_at      timestamptz NOT NULL DEFAULT now(),
                    UNIQUE (monitor, window_start, window_end)
                );
                -- Serves trends and "latest run": WHERE monitor = $1 ORDER BY window_start DESC
                CREATE INDEX drift_runs_monitor_window ON {{schema}}.drift_runs (monitor, window_start DESC);
                CREATE TABLE {{schema}}.drift_feature_results (
                    run_id              bigint  NOT NULL REFERENCES {{schema}}.drift_runs (id) ON DELETE CASCADE,
                    feature             text    NOT NULL,
                    kind                text    NOT NULL CHECK (kind IN ('numeric', 'categorical')),
                    reference_count     int     NOT NULL,
                    current_count       int     NOT NULL,
                    reference_missing   int     NOT NULL,
                    current_missing     int     NOT NULL,
                    ks_statistic        float8,
                    ks_pvalue           float8,
                    ks_method           text,
                    psi                 float8,
                    jensen_shannon      float8,
                    wasserstein_normed  float8,
                    hellinger           float8,
                    chi_square          float8,
                    chi_square_pvalue   float8,
                    chi_square_dof      int,
                    pvalue_adjusted     float8,
                    unseen_categories   int,
                    out_of_range_share  float8,
                    drifted             boolean NOT NULL,
                    reasons             text[]  NOT NULL DEFAULT '{}',
                    PRIMARY KEY (run_id, feature)
                );
                """),
        Migration(
            version: 3, name: "tasks",
            sql: """
                -- The durable task queue (River's design): explicit states, leases, retries, unique keys.
                CREATE TABLE {{schema}}.tasks (
                    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    kind             text        NOT NULL,
                    unique_key       text,
                    args             jsonb       NOT NULL DEFAULT '{}',
                    state            text        NOT NULL DEFAULT 'available'
                                     CHECK (state IN ('available', 'scheduled', 'running', 'retryable', 'completed', 'cancelled', 'discarded')),
                    priority         smallint    NOT NULL DEFAULT 1 CHECK (priority BETWEEN 1 AND 4),
                    attempt          int         NOT NULL DEFAULT 0,
                    max_attempts     int         NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
                    scheduled_at     timestamptz NOT NULL DEFAULT now(),
                    attempted_at     timestamptz,
                    lease_owner      text,
                    lease_expires_at timestamptz,
                    finalized_at     timestamptz,
                    errors           jsonb       NOT NULL DEFAULT '[]',
                    created_at       timestamptz NOT NULL DEFAULT now(),
                    -- finalized_at is set exactly for the final states
                    CONSTRAINT tasks_finalized CHECK ((state IN ('completed', 'cancelled', 'discarded')) = (finalized_at IS NOT NULL)),
                    CONSTRAINT tasks_lease CHECK (state <> 'running' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
                );
                -- Serves the fetch: state IN (…due…) AND scheduled_at <= now ORDER BY priority, scheduled_at, id … SKIP LOCKED
                CREATE INDEX tasks_fetch ON {{schema}}.tasks (priority, scheduled_at, id) WHERE state IN ('available', 'scheduled', 'retryable');
                -- Serves the rescuer: state = 'running' AND lease_expires_at < now
                CREATE INDEX tasks_lease_expiry ON {{schema}}.tasks (lease_expires_at) WHERE state = 'running';
                -- Serves pruning: finalized_at < now - retention
                CREATE INDEX tasks_finalized_at ON {{schema}}.tasks (finalized_at) WHERE finalized_at IS NOT NULL;
                -- Dedupe: one pending or done task per unique key (cancelled/discarded ones do not block a new one).
                CREATE UNIQUE INDEX tasks_unique_key ON {{schema}}.tasks (unique_key)
                    WHERE unique_key IS NOT NULL AND state NOT IN ('cancelled', 'discarded');
                """),
        Migration(
            version: 4, name: "trigger_outbox_shadow",
            sql: """
                -- Actions to fire (retrain, shadow_eval, …), written in the same transaction as the drift run.
                CREATE TABLE {{schema}}.trigger_outbox (
                    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    action_id       text        NOT NULL UNIQUE,
                    monitor         text        NOT NULL,
                    run_id          bigint      REFERENCES {{schema}}.drift_runs (id) ON DELETE SET NULL,
                    action          text        NOT NULL,
                    preset          text        NOT NULL DEFAULT 'webhook',
                    payload         jsonb       NOT NULL DEFAULT '{}',
                    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'delivered', 'dead')),
                    attempts        int         NOT NULL DEFAULT 0,
                    next_attempt_at timestamptz NOT NULL DEFAULT now(),
                    claimed_by      text,
                    claim_expires_at timestamptz,
                    last_status     int,
                    external_run_id text,
                    history         jsonb       NOT NULL DEFAULT '[]',
                    created_at      timestamptz NOT NULL DEFAULT now(),
                    delivered_at    timestamptz
                );
                -- Serves the dispatcher's claim: state = 'pending' AND next_attempt_at <= now ORDER BY id
                CREATE INDEX trigger_outbox_due ON {{schema}}.trigger_outbox (next_attempt_at, id) WHERE state = 'pending';
                CREATE TABLE {{schema}}.shadow_evaluations (
                    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    monitor       text        NOT NULL,
                    champion      text        NOT NULL,
                    challenger    text        NOT NULL,
                    window_start  timestamptz NOT NULL,
                    window_end    timestamptz NOT NULL,
                    verdict       text        NOT NULL CHECK (verdict IN ('promote', 'hold', 'reject')),
                    figures       jsonb       NOT NULL,
                    created_at    timestamptz NOT NULL DEFAULT now(),
                    UNIQUE (monitor, challenger, window_start, window_end)
                );
                """),
        Migration(
            version: 5, name: "feature_result_detail",
            sql: """
                -- What the drift report draws, kept with the figures: PSI bins or categories with both proportions and
                -- each bin's PSI term, both ECDFs on a common grid (numeric), unseen categories. About 2 KB a feature.
                ALTER TABLE {{schema}}.drift_feature_results ADD COLUMN detail jsonb;
                """),
        Migration(
            version: 6, name: "window_sample_kind",
            sql: """
                -- The window count by kind (request / response / paired) from the index alone: the sample index
                -- carries the event kind. Replaces capture_events_window_sample.
                CREATE INDEX capture_events_window_kind ON {{schema}}.capture_events (model, observed_at, sample_key) INCLUDE (kind);
                DROP INDEX {{schema}}.capture_events_window_sample;
                """),
        Migration(
            version: 7, name: "tensor_features",
            sql: """
                -- Tensor features (embeddings): one row for the tensor (kind 'tensor', its verdict, the largest component
                -- statistics, detail with projection, reconstruction error and MMD) beside a numeric row per component.
                ALTER TABLE {{schema}}.drift_feature_results DROP CONSTRAINT drift_feature_results_kind_check;
                ALTER TABLE {{schema}}.drift_feature_results ADD CONSTRAINT drift_feature_results_kind_check
                    CHECK (kind IN ('numeric', 'categorical', 'tensor'));
                """),
        Migration(
            version: 8, name: "monitor_failures",
            sql: """
                -- Monitors whose checks keep failing (a drift_check task used its last attempt): the scheduler pauses them
                -- until retry_at (exponential backoff, at most an hour), then sends one probe; a check that succeeds
                -- deletes the row. Serves drift_monitor_failing{monitor} and the /readyz detail.
                CREATE TABLE {{schema}}.monitor_failures (
                    monitor       text        PRIMARY KEY,
                    failures      int         NOT NULL CHECK (failures > 0),
                    last_error    text        NOT NULL,
                    failing_since timestamptz NOT NULL DEFAULT now(),
                    retry_at      timestamptz NOT NULL,
                    updated_at    timestamptz NOT NULL DEFAULT now()
                );
                -- Serves the policy's last firing (no horizon): WHERE monitor = $1 AND window_start < $2 AND decision->>'fired' = 'true'
                -- ORDER BY window_start DESC LIMIT 1 — without it, a monitor that never fired walks all its runs on every check.
                CREATE INDEX drift_runs_fired ON {{schema}}.drift_runs (monitor, window_start DESC) WHERE decision->>'fired' = 'true';
                """),
        Migration(
            version: 9, name: "trigger_run_following",
            sql: """
                -- The run a delivered action started, followed to its end: NULL run_state = not followed (the action does not
                -- follow, or the target named no run); 'running' rows are checked at run_next_check_at (claimed like sends,
                -- with claimed_by / claim_expires_at) until a final state or run_deadline ('timed_out'). parent_action_id: the
                -- action whose run's end fired this one (on_success / on_failure).
                ALTER TABLE {{schema}}.trigger_outbox
                    ADD COLUMN run_state         text CHECK (run_state IN ('running', 'succeeded', 'failed', 'timed_out')),
                    ADD COLUMN run_url           text,
                    ADD COLUMN run_detail        text,
                    ADD COLUMN run_polls         int  NOT NULL DEFAULT 0,
                    ADD COLUMN run_next_check_at timestamptz,
                    ADD COLUMN run_deadline      timestamptz,
                    ADD COLUMN run_finished_at   timestamptz,
                    ADD COLUMN parent_action_id  text;
                -- Serves the follower's claim: run_state = 'running' AND run_next_check_at <= now() ORDER BY run_next_check_at
                CREATE INDEX trigger_outbox_following ON {{schema}}.trigger_outbox (run_next_check_at, id) WHERE run_state = 'running';
                """),
        Migration(
            version: 10, name: "ground_truth",
            sql: """
                -- Ground-truth labels of captured requests, one per (model, request id) as capture stored the id; joined to a
                -- window's captured events for realized performance. label: the truth as text (a class); value: the same truth
                -- as a number when it is one (a regression target); reward: a Seldon feedback's reward (a feedback may carry a
                -- reward and no truth). labelled_at: when the truth became known (given, else received_at). revisions: how many
                -- times a later label with another truth replaced this one.
                CREATE TABLE {{schema}}.ground_truth (
                    model        text        NOT NULL,
                    request_id   text        NOT NULL CHECK (request_id <> ''),
                    label        text,
                    value        float8,
                    reward       float8,
                    labelled_at  timestamptz NOT NULL,
                    received_at  timestamptz NOT NULL DEFAULT now(),
                    source       text        NOT NULL CHECK (source IN ('http', 'seldon_feedback', 'file')),
                    revisions    int         NOT NULL DEFAULT 0,
                    PRIMARY KEY (model, request_id),
                    CHECK (label IS NOT NULL OR reward IS NOT NULL)
                );
                -- Serves the labels that arrived in a period (coverage updates, drift_labels_* gauges): WHERE model = $1 AND received_at >= $2
                CREATE INDEX ground_truth_received ON {{schema}}.ground_truth (model, received_at);
                """),
        Migration(
            version: 11, name: "performance_results",
            sql: """
                -- A monitor's model performance per window (issue 20): one row per window with its label coverage, replaced
                -- when later labels re-score the window (until label_delay after its end).
                CREATE TABLE {{schema}}.performance_windows (
                    monitor      text        NOT NULL,
                    window_start timestamptz NOT NULL,
                    window_end   timestamptz NOT NULL,
                    predictions  int         NOT NULL,
                    labels       int         NOT NULL,
                    coverage     float8,
                    dropped      bool        NOT NULL,
                    reasons      text[]      NOT NULL DEFAULT '{}',
                    computed_at  timestamptz NOT NULL DEFAULT now(),
                    revisions    int         NOT NULL DEFAULT 0,
                    PRIMARY KEY (monitor, window_start, window_end)
                );
                -- Each metric of a window: realized (from labels) or estimated (CBPE), with the estimate's confidence band
                -- (lower, upper) and the alert band (threshold_lower, threshold_upper).
                CREATE TABLE {{schema}}.performance_results (
                    monitor         text        NOT NULL,
                    window_start    timestamptz NOT NULL,
                    window_end      timestamptz NOT NULL,
                    kind            text        NOT NULL CHECK (kind IN ('realized', 'estimated')),
                    metric          text        NOT NULL,
                    value           float8      NOT NULL,
                    lower           float8,
                    upper           float8,
                    threshold_lower float8,
                    threshold_upper float8,
                    alert           bool        NOT NULL,
                    labels          int         NOT NULL,
                    coverage        float8,
                    computed_at     timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (monitor, window_start, window_end, kind, metric),
                    FOREIGN KEY (monitor, window_start, window_end)
                        REFERENCES {{schema}}.performance_windows (monitor, window_start, window_end) ON DELETE CASCADE
                );
                -- When a label first joined a captured request (a window's scoring); NULL: not yet. Serves
                -- drift_labels_unmatched: WHERE model = $1 AND matched_at IS NULL AND received_at < $2
                -- Labels stored before this migration count as matched (at the migration's time): not counted as unmatched.
                -- A default of now() is stored once in the catalog (no table rewrite); new rows get NULL after the DROP.
                ALTER TABLE {{schema}}.ground_truth ADD COLUMN matched_at timestamptz DEFAULT now();
                ALTER TABLE {{schema}}.ground_truth ALTER COLUMN matched_at DROP DEFAULT;
                CREATE INDEX ground_truth_unmatched ON {{schema}}.ground_truth (model, received_at) WHERE matched_at IS NULL;
                """)
    ]
}
