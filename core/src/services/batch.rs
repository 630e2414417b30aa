//! Batch writes: up to 1000 create/update/delete operations over the four inventory models,
//! committed all together or not at all, with per-operation errors when rejected.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::input::Mode;
use super::inventory::{Model, WriteKind};
use super::tx::Tx;
use super::write::{key_text, operation_error, record_json};
use super::{Caller, Rehome};
use crate::error::{Error, FieldErrors, OperationError, Result};
use crate::permission::Permission;
use crate::store::StoreError;

/// The most operations one batch may hold.
pub const MAX_OPERATIONS: usize = 1000;

/// What one operation does.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchOp {
    /// Create an object from `data`.
    Create,
    /// Update object `id` with `data` (fields left out keep their value).
    Update,
    /// Delete object `id`.
    Delete,
}

impl BatchOp {
    fn write_kind(self) -> WriteKind {
        match self {
            BatchOp::Create => WriteKind::Create,
            BatchOp::Update => WriteKind::Update,
            BatchOp::Delete => WriteKind::Delete,
        }
    }

    fn parse(s: &str) -> Option<BatchOp> {
        match s {
            "create" => Some(BatchOp::Create),
            "update" => Some(BatchOp::Update),
            "delete" => Some(BatchOp::Delete),
            _ => None,
        }
    }
}

/// One operation, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// What it does.
    pub op: BatchOp,
    /// On which model.
    pub model: Model,
    /// The object's id (update, delete).
    pub id: Option<String>,
    /// The body (create, update).
    pub data: Json,
}

/// The outcome of one operation of an applied batch.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperationResult {
    /// What it did.
    pub op: BatchOp,
    /// On which model.
    pub model: Model,
    /// The object's id.
    pub id: String,
    /// The object after the operation (`null` after a delete).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub object: Json,
}

fn id_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses `{"operations": [...]}` into operations, or the field errors of the body and of
/// each operation.
pub fn parse_operations(body: &Json) -> Result<Vec<Operation>> {
    let Some(list) = body.get("operations") else {
        return Err(Error::invalid("operations", "This field is required."));
    };
    let Some(items) = list.as_array() else {
        return Err(Error::invalid(
            "operations",
            "Expected a list of operations.",
        ));
    };
    if items.is_empty() {
        return Err(Error::invalid("operations", "This list may not be empty."));
    }
    if items.len() > MAX_OPERATIONS {
        return Err(Error::invalid(
            "operations",
            format!("Ensure this list has at most {MAX_OPERATIONS} operations."),
        ));
    }
    if let Some(obj) = body.as_object() {
        let unknown: Vec<&String> = obj.keys().filter(|k| *k != "operations").collect();
        if let Some(k) = unknown.first() {
            return Err(Error::invalid(k.as_str(), "Unknown field."));
        }
    }
    let mut ops = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let mut e = FieldErrors::new();
        let Some(obj) = item.as_object() else {
            errors.push(OperationError {
                index,
                errors: FieldErrors::one("non_field_errors", "Expected an object."),
                conflict: false,
            });
            continue;
        };
        let op = obj
            .get("op")
            .and_then(Json::as_str)
            .and_then(BatchOp::parse);
        if op.is_none() {
            e.add("op", "Expected \"create\", \"update\" or \"delete\".");
        }
        let model = obj
            .get("model")
            .and_then(Json::as_str)
            .and_then(Model::from_name);
        if model.is_none() {
            e.add(
                "model",
                "Expected \"device\", \"location\", \"donor\" or \"shipment\".",
            );
        }
        let id = obj.get("id").and_then(id_text);
        let data = obj.get("data").cloned();
        for k in obj.keys() {
            if !matches!(k.as_str(), "op" | "model" | "id" | "data") {
                e.add(k.clone(), "Unknown field.");
            }
        }
        match op {
            Some(BatchOp::Update | BatchOp::Delete) if id.is_none() => {
                e.add("id", "This field is required.");
            }
            Some(BatchOp::Create | BatchOp::Update)
                if !data.as_ref().is_some_and(Json::is_object) =>
            {
                e.add("data", "Expected an object.");
            }
            _ => {}
        }
        match (op, model) {
            (Some(op), Some(model)) if e.is_empty() => ops.push(Operation {
                op,
                model,
                id,
                data: data.unwrap_or(Json::Null),
            }),
            _ => errors.push(OperationError {
                index,
                errors: e,
                conflict: false,
            }),
        }
    }
    if errors.is_empty() {
        Ok(ops)
    } else {
        Err(Error::BatchRejected { errors })
    }
}

impl Rehome {
    /// Applies a batch body (`{"operations": [...]}`) all or nothing. Needs
    /// `bulkUploadDevices` and, for each operation, what the single call needs.
    pub async fn batch(&self, caller: &Caller, body: &Json) -> Result<Vec<OperationResult>> {
        caller.require(Permission::BulkUploadDevices)?;
        let ops = parse_operations(body)?;
        self.run_batch(caller, ops).await
    }

    /// Applies parsed operations all or nothing (see [`Rehome::batch`]).
    pub async fn run_batch(
        &self,
        caller: &Caller,
        ops: Vec<Operation>,
    ) -> Result<Vec<OperationResult>> {
        if ops.is_empty() || ops.len() > MAX_OPERATIONS {
            caller.require(Permission::BulkUploadDevices)?;
            return Err(Error::invalid(
                "operations",
                format!("Give 1 to {MAX_OPERATIONS} operations."),
            ));
        }
        self.apply_batch(caller, ops, true).await
    }

    /// Checks parsed operations exactly as [`Rehome::run_batch`] would apply them, writing
    /// nothing: the results they would give, or [`Error::BatchRejected`] with every failing
    /// operation. Any number of operations (imports check a whole file before writing it in
    /// batches). The store may still refuse the real batch if it changes meanwhile.
    pub async fn check_batch(
        &self,
        caller: &Caller,
        ops: Vec<Operation>,
    ) -> Result<Vec<OperationResult>> {
        self.apply_batch(caller, ops, false).await
    }

    async fn apply_batch(
        &self,
        caller: &Caller,
        ops: Vec<Operation>,
        commit: bool,
    ) -> Result<Vec<OperationResult>> {
        caller.require(Permission::BulkUploadDevices)?;
        for op in &ops {
            caller.require(op.model.write_permission(op.op.write_kind()))?;
        }
        let mut tx = Tx::new(&**self.store());
        let mut results = Vec::with_capacity(ops.len());
        let mut errors = Vec::new();
        for (index, op) in ops.into_iter().enumerate() {
            tx.op = index;
            let id = op.id.clone().unwrap_or_default();
            let outcome = match op.op {
                BatchOp::Create => self.tx_create(&mut tx, caller, op.model, &op.data).await,
                BatchOp::Update => {
                    self.tx_update(&mut tx, caller, op.model, &id, &op.data, Mode::Patch, None)
                        .await
                }
                BatchOp::Delete => self.tx_delete(&mut tx, caller, op.model, &id, None).await,
            };
            match outcome {
                Ok(record) => results.push(OperationResult {
                    op: op.op,
                    model: op.model,
                    id: key_text(record.key()),
                    object: if op.op == BatchOp::Delete {
                        Json::Null
                    } else {
                        record_json(&record)
                    },
                }),
                Err(e) => errors.push(operation_error(index, e)?),
            }
        }
        if !errors.is_empty() {
            return Err(Error::BatchRejected { errors });
        }
        if !commit {
            return Ok(results);
        }
        match tx.commit_with_origin().await {
            Ok(()) => Ok(results),
            Err((e @ StoreError::Conflict { .. }, op)) => Err(Error::BatchRejected {
                errors: vec![operation_error(op, e.into())?],
            }),
            Err((e, _)) => Err(e.into()),
        }
    }

    /// The original's `PATCH batch/?model=...` form: `{"objects": [{"id": ..., ...}]}`, each
    /// a partial update, all or nothing. Answers how many were updated.
    pub async fn batch_update(&self, caller: &Caller, model: Model, body: &Json) -> Result<usize> {
        let Some(objects) = body.get("objects").and_then(Json::as_array) else {
            return Err(Error::invalid("objects", "Expected a list of objects."));
        };
        let id_names = ["id", id_field_name(model)];
        let mut ops = Vec::with_capacity(objects.len());
        for obj in objects {
            let mut data = obj.clone();
            let id = id_names.iter().find_map(|n| obj.get(*n).and_then(id_text));
            if let Some(map) = data.as_object_mut() {
                map.remove("id");
            }
            ops.push(Operation {
                op: BatchOp::Update,
                model,
                id: Some(id.unwrap_or_default()),
                data,
            });
        }
        let n = ops.len();
        self.run_batch(caller, ops).await?;
        Ok(n)
    }

    /// The original's `DELETE batch/?model=...` form: `{"ids": [...]}`, all or nothing.
    /// Answers how many were deleted.
    pub async fn batch_delete(&self, caller: &Caller, model: Model, body: &Json) -> Result<usize> {
        let Some(ids) = body.get("ids").and_then(Json::as_array) else {
            return Err(Error::invalid("ids", "Expected a list of ids."));
        };
        let ops: Vec<Operation> = ids
            .iter()
            .map(|id| Operation {
                op: BatchOp::Delete,
                model,
                id: Some(id_text(id).unwrap_or_default()),
                data: Json::Null,
            })
            .collect();
        let n = ops.len();
        self.run_batch(caller, ops).await?;
        Ok(n)
    }
}

fn id_field_name(model: Model) -> &'static str {
    match model {
        Model::Device => "device_id",
        Model::Location => "location_id",
        Model::Donor => "donor_id",
        Model::Shipment => "shipping_id",
    }
}
