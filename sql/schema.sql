-- The published database: one history table per contract table, appended once per run
-- with run_id, and a view per contract name showing the latest successful screening run.
-- Analysts query the views; a failed run never touches them.

create table if not exists main.runs (
    run_id varchar primary key,
    command varchar,
    as_of_date date,
    criteria_name varchar,
    criteria_version varchar,
    criteria_sha256 varchar,
    status varchar,            -- running, succeeded, failed
    failed_step varchar,
    failure_reason varchar,
    started_at timestamp,
    finished_at timestamp,
    n_rows_read bigint,
    n_rows_staged bigint,
    n_rows_rejected bigint,
    n_persons bigint,
    n_families bigint,
    n_cohort_families bigint,
    code_version varchar
);

create table if not exists main.rejects_history (
    run_id varchar, extract varchar, "row" bigint, "column" varchar, problem varchar,
    raw_values varchar
);

create table if not exists main.value_warnings_history (
    run_id varchar, extract varchar, "row" bigint, "column" varchar, problem varchar
);

create table if not exists main.person_records_history (
    run_id varchar, extract varchar, source_row bigint, person_id varchar,
    match_method varchar, match_score double
);

create table if not exists main.person_keys_history (
    run_id varchar, person_id varchar, key_type varchar, key_value varchar
);

create table if not exists main.link_model_history (
    run_id varchar, trained_from varchar, n_label_pairs bigint, n_profiles bigint,
    n_blocking_rules bigint, n_pairs_scored bigint, seconds double,
    model_json varchar  -- splink's JSON: parameters and rules, no records
);

create table if not exists main.persons_history (
    run_id varchar, person_id varchar, forename varchar, surname varchar,
    date_of_birth date, gender varchar, age integer, address varchar, postcode varchar,
    uprn varchar, household_key varchar, address_date date, n_records integer,
    upn varchar, nino varchar, police_ref varchar, asb_ref varchar
);

create table if not exists main.families_history (
    run_id varchar, family_id varchar, household_key varchar, uprn varchar, address varchar,
    postcode varchar, ward varchar, lsoa varchar, imd_decile integer, members integer,
    children integer, adults integer
);

create table if not exists main.family_members_history (
    run_id varchar, family_id varchar, person_id varchar, role varchar, age integer
);

-- Ids from run to run (pipelines/link.py, households.py): each person's record
-- fingerprints, which the next run follows them by, and per run what became of every id.
create table if not exists main.person_record_hashes_history (
    run_id varchar, person_id varchar, record_hash uhugeint, record_n integer
);

create table if not exists main.person_lineage_history (
    run_id varchar, person_id varchar, event varchar, other_person_id varchar,
    reason varchar, n_records integer, n_previous_records integer,
    n_shared_records integer, previous_run_id varchar
);

create table if not exists main.family_lineage_history (
    run_id varchar, family_id varchar, event varchar, other_family_id varchar,
    reason varchar, members integer, n_previous_members integer,
    n_shared_members integer, previous_run_id varchar
);

create table if not exists main.criteria_evidence_history (
    run_id varchar, family_id varchar, person_id varchar, criterion varchar, rule varchar,
    extract varchar, source_row bigint, event_date date, detail varchar
);

create table if not exists main.family_flags_history (
    run_id varchar, family_id varchar, criterion varchar, is_met boolean
);

create table if not exists main.cohort_history (
    run_id varchar, family_id varchar, criteria_met integer, qualifies_by varchar,
    status varchar, evidence varchar
);

-- The latest screening is the one with the newest as-of date (re-running a past month
-- does not displace a later one); among runs of one date, the last to finish.
create or replace view main.latest_screen_run as
select run_id, as_of_date, criteria_name, criteria_version
from main.runs
where command = 'screen' and status = 'succeeded'
order by as_of_date desc, finished_at desc, run_id desc
limit 1;

-- One view per published table (rejects, persons, families, …, pbr_candidates) is created
-- from sql/interface.yaml (pipelines/interface.py), which also describes every table and
-- view; the cohort view is rebuilt by each run for its rule set.

create table if not exists main.pbr_candidates_history (
    run_id varchar, family_id varchar, result varchar, status varchar, window_start date,
    window_end date, attached_date date, evidence varchar, missing varchar, value integer,
    identification_run_id varchar
);

-- The board report's context of each screening run (counts and rates only, as JSON), so
-- a claims run can render report.html again with its claims (pipelines/report.py).
create table if not exists main.report_history (
    run_id varchar, context json
);

create or replace view main.latest_claims_run as
select run_id, as_of_date, criteria_name, criteria_version
from main.runs
where command = 'claims' and status = 'succeeded'
order by as_of_date desc, finished_at desc, run_id desc
limit 1;
