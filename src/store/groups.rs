//! Incident groups: several incidents on one vendor line and asset served by one ladder (the
//! leader's). Durable, so a restart resumes the leader's ladder for the whole group.

use super::Store;
use super::codec::{parse_status, parse_ts, require_incident, ts};
use super::conn::{Conn, args};
use super::error::StoreError;
use super::id::IncidentId;
use super::model::{Group, GroupMember};
use chrono::Utc;

/// The group `incident_id` belongs to, with every member.
pub(super) fn group_of(conn: &Conn, incident_id: &str) -> Result<Option<Group>, StoreError> {
    let found: Option<(String, String)> = conn
        .query_opt(
            "SELECT leader_id, group_key FROM incident_groups WHERE member_id = ?1",
            args![incident_id],
        )?
        .map(|r| Ok::<_, StoreError>((r.get(0)?, r.get(1)?)))
        .transpose()?;
    let Some((leader, key)) = found else {
        return Ok(None);
    };
    let rows = conn.query(
        "SELECT g.member_id, i.status, i.incident_json, g.joined_at
         FROM incident_groups g JOIN incidents i ON i.id = g.member_id
         WHERE g.leader_id = ?1
         ORDER BY CASE WHEN g.member_id = g.leader_id THEN 0 ELSE 1 END, g.joined_at, g.member_id",
        args![leader],
    )?;
    let mut members = Vec::new();
    for r in &rows {
        let json: String = r.get(2)?;
        let incident: crate::incident::Incident = serde_json::from_str(&json)?;
        members.push(GroupMember {
            id: IncidentId::from_db(r.get(0)?),
            status: parse_status(r.get(1)?)?,
            summary: incident.fault.summary,
            joined_at: parse_ts("joined_at", r.get(3)?)?,
        });
    }
    Ok(Some(Group {
        leader: IncidentId::from_db(leader),
        key,
        members,
    }))
}

impl Store {
    /// Puts `member` in the group led by `leader` (the leader joins its own group first).
    /// A member already in a group stays where it is.
    pub async fn join_group(
        &self,
        member: &IncidentId,
        leader: &IncidentId,
        key: &str,
    ) -> Result<(), StoreError> {
        let (member, leader, key) = (member.clone(), leader.clone(), key.to_string());
        self.worker
            .call(move |db| {
                let tx = db.conn.begin()?;
                require_incident(&tx, &member)?;
                require_incident(&tx, &leader)?;
                tx.execute(
                    "INSERT INTO incident_groups (member_id, leader_id, group_key, joined_at)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (member_id) DO NOTHING",
                    args![member.as_str(), leader.as_str(), key, ts(Utc::now())],
                )?;
                tx.commit()?;
                Ok(())
            })
            .await
    }

    /// The group of an incident (leader or member), if it has one.
    pub async fn group(&self, id: &IncidentId) -> Result<Option<Group>, StoreError> {
        let id = id.clone();
        self.worker
            .call(move |db| group_of(&db.conn, id.as_str()))
            .await
    }
}
