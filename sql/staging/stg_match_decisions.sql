-- stg_match_decisions: one row per reviewed pair of identities (profile keys, in either
-- order as written), with the reviewer's decision. Where one pair was decided twice the
-- newest decision wins (then the later row).
with checked as (
    select * from checked_match_decisions
),

ordered as (
    select
        source_row,
        least(profile_key_l, profile_key_r) as profile_key_l,
        greatest(profile_key_l, profile_key_r) as profile_key_r,
        decision,
        cast(reviewed_on as date) as reviewed_on
    from checked
),

final as (
    select * from ordered
    qualify row_number() over (partition by profile_key_l, profile_key_r
        order by reviewed_on desc nulls last, source_row desc) = 1
)

select * from final
