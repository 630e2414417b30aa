//! List queries as SQL: the semantics of `rehome_core::query` on every dialect.
//!
//! Exact filters compare the typed columns (bytes for text, so case-sensitive and exact);
//! `IContains` and search look for the folded needle in the folded copy with a byte substring
//! function (`instr`, `position`, `LOCATE`), never `LIKE`, so `%`, `_` and `\` are ordinary.
//! Orderings name the typed columns with nulls first ascending and last descending (explicit
//! on PostgreSQL, the default elsewhere), then the id ascending.

use rehome_core::fold::fold;
use rehome_core::query::{Direction, Field, FieldType, Filter, ListQuery, Op, Search};

use crate::driver::{Arg, Sql};
use crate::row::{bound_arg, value_arg};
use crate::schema::{Dialect, Source, Table, has_folded, table};

/// Appends `WHERE ...` for the query's filters and search (nothing when there are none).
pub(crate) fn push_where(q: &mut Sql, t: &Table, query: &ListQuery) {
    let mut first = true;
    let mut and = |q: &mut Sql| {
        q.push(if first { " WHERE " } else { " AND " });
        first = false;
    };
    for f in &query.filters {
        and(q);
        push_filter(q, t, f);
    }
    if let Some(s) = &query.search {
        and(q);
        push_search(q, t, s);
    }
}

/// A condition that is never true (a filter no record can match).
const NEVER: &str = "1 = 0";

fn push_filter(q: &mut Sql, t: &Table, f: &Filter) {
    let Some(column) = t.field_column(f.field) else {
        // A field of another collection is null on every record: it matches no filter.
        q.push(NEVER);
        return;
    };
    let col = column.name.as_str();
    match &f.op {
        Op::Eq(v) => match value_arg(f.field, v) {
            Some(a) => {
                q.push(col).push(" = ").arg(a);
            }
            None => {
                q.push(NEVER);
            }
        },
        Op::In(vs) => {
            let args: Vec<Arg> = vs.iter().filter_map(|v| value_arg(f.field, v)).collect();
            if args.is_empty() {
                q.push(NEVER);
                return;
            }
            q.push(col).push(" IN (");
            for (i, a) in args.into_iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.arg(a);
            }
            q.push(")");
        }
        Op::Gte(v) | Op::Lte(v) => {
            let lower = matches!(f.op, Op::Gte(_));
            match bound_arg(f.field, v, lower) {
                Some(a) => {
                    q.push(col).push(if lower { " >= " } else { " <= " }).arg(a);
                }
                None => {
                    q.push(NEVER);
                }
            }
        }
        Op::IContains(needle) => push_contains(q, t, f.field, &fold(needle)),
    }
}

/// `field` contains the already folded `needle`.
fn push_contains(q: &mut Sql, t: &Table, field: Field, needle: &str) {
    if field.field_type() != FieldType::Text || t.field_column(field).is_none() {
        q.push(NEVER);
        return;
    }
    let column = if has_folded(field) {
        t.column(Source::Folded(field))
    } else {
        // Statuses and hex digests are lowercase ASCII already: their own folding.
        t.field_column(field)
    };
    let Some(column) = column else {
        q.push(NEVER);
        return;
    };
    let col = column.name.as_str();
    if needle.is_empty() {
        // Every text contains the empty text; a null field matches nothing.
        q.push(col).push(" IS NOT NULL");
        return;
    }
    let needle = Arg::bytes(needle.as_bytes());
    match q.dialect() {
        Dialect::Sqlite => {
            q.push("instr(")
                .push(col)
                .push(", ")
                .arg(needle)
                .push(") > 0");
        }
        Dialect::Postgres => {
            q.push("position(")
                .arg(needle)
                .push(" in ")
                .push(col)
                .push(") > 0");
        }
        Dialect::MySql => {
            q.push("LOCATE(")
                .arg(needle)
                .push(", ")
                .push(col)
                .push(") > 0");
        }
    }
}

fn push_search(q: &mut Sql, t: &Table, s: &Search) {
    let needle = fold(&s.text);
    let fields: Vec<Field> = s
        .fields
        .iter()
        .copied()
        .filter(|f| f.field_type() == FieldType::Text && t.field_column(*f).is_some())
        .collect();
    if fields.is_empty() {
        q.push(NEVER);
        return;
    }
    q.push("(");
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            q.push(" OR ");
        }
        push_contains(q, t, *f, &needle);
    }
    q.push(")");
}

/// Appends `ORDER BY` the query's terms, then the id.
pub(crate) fn push_order(q: &mut Sql, t: &Table, query: &ListQuery) {
    q.push(" ORDER BY ");
    let pg = q.dialect() == Dialect::Postgres;
    for o in &query.ordering {
        // A field of another collection is null everywhere: it orders nothing.
        let Some(column) = t.field_column(o.field) else {
            continue;
        };
        q.push(&column.name);
        // PostgreSQL matches an ordering to an index only when their null placements agree,
        // even on a NOT NULL column: name it only where nulls can occur (whose indexes say
        // NULLS FIRST).
        match (o.direction, pg && !column.not_null) {
            (Direction::Asc, false) => q.push(" ASC, "),
            (Direction::Desc, false) => q.push(" DESC, "),
            (Direction::Asc, true) => q.push(" ASC NULLS FIRST, "),
            (Direction::Desc, true) => q.push(" DESC NULLS LAST, "),
        };
    }
    q.push("id ASC");
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The statement reading one page's `data`.
pub(crate) fn page_sql(d: Dialect, query: &ListQuery) -> Sql {
    let t = table(query.collection);
    let mut q = Sql::new(d);
    q.push("SELECT data FROM ").push(t.name);
    push_where(&mut q, t, query);
    push_order(&mut q, t, query);
    q.push(" LIMIT ").arg(Arg::int(clamp(query.limit)));
    if query.offset > 0 {
        q.push(" OFFSET ").arg(Arg::int(clamp(query.offset)));
    }
    q
}

/// The statement counting every match.
pub(crate) fn count_sql(d: Dialect, query: &ListQuery) -> Sql {
    let t = table(query.collection);
    let mut q = Sql::new(d);
    q.push("SELECT COUNT(*) FROM ").push(t.name);
    push_where(&mut q, t, query);
    q
}

#[cfg(test)]
mod tests {
    use rehome_core::query::{Collection, Order, Value};

    use super::*;

    #[test]
    fn equality_filter_default_order_first_page() {
        let query = ListQuery::all(Collection::Devices)
            .filter(Field::DeviceStatus, Op::Eq(Value::Text("wiped".into())))
            .order_by(vec![Order::asc(Field::DeviceType)])
            .page(0, 10);
        let q = page_sql(Dialect::Postgres, &query);
        assert_eq!(
            q.text,
            "SELECT data FROM devices WHERE status = $1 ORDER BY device_type ASC, id ASC LIMIT $2"
        );
        assert_eq!(q.args, vec![Arg::bytes("wiped"), Arg::int(10)]);
        let q = page_sql(Dialect::MySql, &query);
        assert_eq!(
            q.text,
            "SELECT data FROM devices WHERE status = ? ORDER BY device_type ASC, id ASC LIMIT ?"
        );
    }

    #[test]
    fn postgres_names_null_placement_on_nullable_columns() {
        let query = ListQuery::all(Collection::Devices).order_by(vec![
            Order::desc(Field::DeviceYearOfManufacture),
            Order::asc(Field::DeviceDonor),
            Order::desc(Field::DeviceMake),
        ]);
        let q = page_sql(Dialect::Postgres, &query);
        assert_eq!(
            q.text,
            "SELECT data FROM devices ORDER BY year_of_manufacture DESC NULLS LAST, donor_id ASC \
             NULLS FIRST, make DESC, id ASC LIMIT $1"
        );
    }

    #[test]
    fn contains_uses_the_folded_copy_and_no_like() {
        let query = ListQuery::all(Collection::Users)
            .filter(Field::UserRole, Op::IContains("STRASSE%".into()))
            .filter(Field::UserIsActive, Op::Eq(Value::Text("true".into())));
        let q = count_sql(Dialect::Sqlite, &query);
        assert_eq!(
            q.text,
            "SELECT COUNT(*) FROM users WHERE instr(role_name_f, ?) > 0 AND 1 = 0"
        );
        assert_eq!(q.args, vec![Arg::bytes("strasse%")]);
    }
}
