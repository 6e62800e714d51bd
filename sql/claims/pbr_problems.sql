-- pbr_problems: one row per (attached family, result component) that applies: the family's
-- evidence at identification includes one of the component's criteria or rules.
with components as (
    select unnest($component_names) as component,
        unnest($component_criteria) as criteria,
        unnest($component_rules) as rules
),

final as (
    select distinct a.family_id, c.component
    from pbr_attachments as a
    join main.criteria_evidence_history as e
        on e.run_id = a.identification_run_id and e.family_id = a.family_id
    join components as c
        on list_contains(c.criteria, e.criterion) or list_contains(c.rules, e.rule)
)

select * from final
