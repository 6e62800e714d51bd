-- std_person_keys: one row per (person-level record, source identifier it carries).
-- key_type names the identifier's system, so a UPN from the school census and the same
-- UPN on a local indicator record are one key. Each extract's declaration names its
-- identifiers (schemas/extracts.py, `person.keys`).
with keys as (
{%- for extract, key in person_keys %}
{%- if not loop.first %}
    union all
{%- endif %}
    select '{{ extract }}' as extract, source_row, '{{ key }}' as key_type, {{ key }} as key_value
    from stg_{{ extract }}
{%- endfor %}
),

final as (
    select extract || ':' || source_row as record_id, extract, source_row, key_type,
        upper(key_value) as key_value
    from keys
    where key_value is not null
)

select * from final
