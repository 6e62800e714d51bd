-- members_new_to_family: one row per member of a family of this run who was not in that
-- family in the run the cohort is compared with ($compare_run_id, the run before this
-- as-of date; cohort.sql's status is against the same run), or every member when there is
-- none. Ids are followed back through the lineage of every run between (person_lineage,
-- family_lineage: an id kept, merged into another or split from one), so a member whose
-- id was merged or split, or whose family's was, is not new for that alone.
with recursive between_runs as (
    -- the runs since the compared one: their lineage is all the walk back can need
    select run_id from main.runs
    where as_of_date >= (select as_of_date from main.runs where run_id = $compare_run_id)
),

lineage as (
    -- this run's (run_id '') and the runs' between
    select 'person' as kind, '' as run_id, person_id as id, event, other_person_id as other_id,
        previous_run_id
    from person_lineage
    union all
    select 'family', '', family_id, event, other_family_id, previous_run_id
    from family_lineage
    union all
    select 'person', run_id, person_id, event, other_person_id, previous_run_id
    from main.person_lineage_history
    where run_id in (select run_id from between_runs)
    union all
    select 'family', run_id, family_id, event, other_family_id, previous_run_id
    from main.family_lineage_history
    where run_id in (select run_id from between_runs)
),

steps as (
    -- each id of a run and the ids of the run before that it came from
    select kind, run_id, id, if(event = 'split', other_id, id) as from_id, previous_run_id
    from lineage
    where event in ('carried', 'split')
    union all
    select kind, run_id, other_id, id, previous_run_id
    from lineage
    where event = 'merged'
),

ancestors as (
    -- (kind, id of this run, an id it came from, the run that id is of): back run by run
    -- until the compared run
    select kind, id, from_id as ancestor_id, previous_run_id as run_id
    from steps
    where run_id = '' and cast($compare_run_id as varchar) is not null
    union all
    select a.kind, a.id, s.from_id, s.previous_run_id
    from ancestors as a
    join steps as s on s.run_id = a.run_id and s.kind = a.kind and s.id = a.ancestor_id
    where a.run_id <> $compare_run_id
),

at_compare as (
    -- an id is always its own ancestor: ids are never given to anyone else
    select distinct kind, id, ancestor_id from ancestors where run_id = $compare_run_id
    union
    select 'person', person_id, person_id from family_members
    union
    select 'family', family_id, family_id from family_members
),

was_there as (
    select distinct m.family_id, m.person_id
    from family_members as m
    join at_compare as f on f.kind = 'family' and f.id = m.family_id
    join at_compare as p on p.kind = 'person' and p.id = m.person_id
    join main.family_members_history as h
        on h.run_id = $compare_run_id and h.family_id = f.ancestor_id
            and h.person_id = p.ancestor_id
),

final as (
    select m.family_id, m.person_id
    from family_members as m
    anti join was_there as w using (family_id, person_id)
)

select * from final
