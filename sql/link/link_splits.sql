-- link_splits: one row per draft cluster that the model's links made implausible, with
-- why. A draft cluster holding two different identifiers of one system (two UPNs, say)
-- or a pair a person rejected loses all its model links; one holding dates of birth that
-- differ by more than a day/month swap or one digit keeps its strong model links (at
-- least the strong threshold) and those weak ones that join no such dates
-- (pipelines.link.keep_compatible). Deterministic and reviewer links always stay. Only
-- clusters joined by at least one model link are listed.
with members as (
    select c.cluster_id, r.record_id, r.date_of_birth
    from link_cluster_draft as c
    join std_person_records as r using (record_id)
),

model_linked as (
    select c.cluster_id, count(*) as n_model_links
    from link_edges_draft as e
    join link_cluster_draft as c on c.record_id = e.record_id_l
    where e.method = 'probabilistic'
    group by c.cluster_id
),

dobs as (
    select distinct cluster_id, date_of_birth as dob
    from members
    where date_of_birth is not null
),

dob_conflicts as (
    select distinct a.cluster_id
    from dobs as a
    join dobs as b on a.cluster_id = b.cluster_id and a.dob < b.dob
    where not dob_compatible(a.dob, b.dob)
),

key_conflicts as (
    select distinct c.cluster_id
    from link_cluster_draft as c
    join std_person_keys as k using (record_id)
    group by c.cluster_id, k.key_type
    having count(distinct k.key_value) > 1
),

rejected_conflicts as (
    select distinct l.cluster_id
    from link_candidates as x
    join link_cluster_draft as l on l.record_id = x.unique_id_l
    join link_cluster_draft as r on r.record_id = x.unique_id_r
    where x.band = 'rejected' and l.cluster_id = r.cluster_id
),

sizes as (
    select cluster_id, count(*) as n_records from members group by cluster_id
),

reasons as (
    select cluster_id, 'identifiers of one system differ' as reason, true as drop_strong
    from key_conflicts
    union all
    select cluster_id, 'a person rejected a pair in it', true from rejected_conflicts
    union all
    select cluster_id, 'dates of birth differ', false from dob_conflicts
),

final as (
    select
        r.cluster_id,
        string_agg(r.reason, '; ' order by r.reason) as reason,
        bool_or(r.drop_strong) as drop_strong,
        any_value(m.n_model_links) as n_model_links,
        any_value(z.n_records) as n_records
    from reasons as r
    join model_linked as m using (cluster_id)
    join sizes as z using (cluster_id)
    group by r.cluster_id
)

select * from final
