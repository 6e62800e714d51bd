-- std_person_keys: one row per (person-level record, source identifier it carries).
-- key_type names the identifier's system, so a UPN from the school census and the same
-- UPN on a local indicator record are one key.
with keys as (
    select 'school_attendance' as extract, source_row, 'upn' as key_type, upn as key_value
    from stg_school_attendance
    union all
    select 'school_exclusions', source_row, 'upn', upn from stg_school_exclusions
    union all
    select 'police_offences', source_row, 'police_ref', police_ref from stg_police_offences
    union all
    select 'asb', source_row, 'asb_ref', asb_ref from stg_asb
    union all
    select 'benefits', source_row, 'nino', nino from stg_benefits
    union all
    select 'local_indicators', source_row, 'upn', upn from stg_local_indicators
    union all
    select 'local_indicators', source_row, 'nino', nino from stg_local_indicators
    union all
    select 'local_indicators', source_row, 'police_ref', police_ref from stg_local_indicators
    union all
    select 'local_indicators', source_row, 'asb_ref', asb_ref from stg_local_indicators
),

final as (
    select extract || ':' || source_row as record_id, extract, source_row, key_type,
        upper(key_value) as key_value
    from keys
    where key_value is not null
)

select * from final
