-- pbr_member_ids: one row per (member of an attached family as identified, their id in
-- this run): an identified member's events are now linked under this run's id of them,
-- which is theirs still, or the id theirs was merged into (the oldest of a merge) since
-- the identifying run. Followed back through each run's person_lineage from this run to
-- the identifying run; a member whose id was retired has none (no events now).
with recursive identified as (
    select distinct a.identification_run_id as run_id, m.person_id
    from pbr_attachments as a
    join main.family_members_history as m
        on m.run_id = a.identification_run_id and m.family_id = a.family_id
),

between_runs as (
    -- the runs since the earliest identifying one: their lineage is all the walk needs
    select run_id from main.runs
    where as_of_date >= (select min(r.as_of_date) from main.runs as r
                         where r.run_id in (select run_id from identified))
),

steps as (
    -- each id of a run and the id of the run before that it came from: kept, or merged
    -- into it (a split-off part is someone whose records were wrongly linked: not followed)
    select '' as run_id, person_id as id, person_id as from_id, previous_run_id
    from person_lineage where event = 'carried'
    union all
    select '', other_person_id, person_id, previous_run_id
    from person_lineage where event = 'merged'
    union all
    select run_id, if(event = 'merged', other_person_id, person_id),
        person_id, previous_run_id
    from main.person_lineage_history
    where event in ('carried', 'merged') and run_id in (select run_id from between_runs)
),

ancestors as (
    -- (id of this run, an id it came from, the run that id is of), back run by run
    select id, from_id as ancestor_id, previous_run_id as run_id from steps where run_id = ''
    union all
    select a.id, s.from_id, s.previous_run_id
    from ancestors as a
    join steps as s on s.run_id = a.run_id and s.id = a.ancestor_id
    where a.run_id in (select run_id from between_runs)
),

final as (
    select i.run_id as identification_run_id, i.person_id as identified_person_id,
        a.id as person_id
    from identified as i
    join ancestors as a on a.run_id = i.run_id and a.ancestor_id = i.person_id
    union
    -- an id still given is its person's (ids never pass to anyone else)
    select i.run_id, i.person_id, i.person_id
    from identified as i
    join person_lineage as l on l.person_id = i.person_id and l.event = 'carried'
)

select * from final
