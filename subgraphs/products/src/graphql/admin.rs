//! Admin mutations on the catalogue: each is `@requiresScopes(admin)` in the schema (the router
//! refuses others first) and guarded again here, writes in one conditional statement, and
//! emits its event through the outbox in the same transaction.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use tessera_kit::{
    ApiError,
    bus::{Event, outbox},
    db::Tx,
    error::parse_uuid,
    identity::RequireScopes,
    input::has_control,
};
use uuid::Uuid;

use super::{Product, product::tagged, runtime};
use crate::{
    domain::{
        Problems, Status,
        product::{Fields, RawProduct, STOCK_MAX, stock},
    },
    error::ProductsError,
    events,
    store::catalogue::{self, NewProduct},
};

/// A price as an admin sets it.
#[derive(InputObject)]
pub struct MoneyInput {
    /// Minor units (cents), 0 or more.
    pub amount: i64,
    /// ISO 4217 code, such as EUR.
    pub currency: String,
}

#[derive(InputObject)]
pub struct CreateProductInput {
    /// Letters, digits, `-`, `_`, `.`; unique.
    pub sku: String,
    /// 1 to 200 characters.
    pub name: String,
    /// At most 5000 characters.
    #[graphql(default)]
    pub description: String,
    pub price: MoneyInput,
    /// `DRAFT` (the default) or `ACTIVE`.
    pub status: Option<Status>,
    /// Up to 10 slugs.
    #[graphql(default)]
    pub categories: Vec<String>,
    /// Up to 10 https URLs.
    #[graphql(default)]
    pub images: Vec<String>,
    /// Units in stock at the start.
    #[graphql(default)]
    pub stock: i64,
}

/// A change to a product's catalogue fields; an absent field is left as it is. Stock changes
/// with `adjustStock`, archiving with `archiveProduct`.
#[derive(InputObject)]
pub struct UpdateProductInput {
    pub id: ID,
    /// The `version` you read; a newer one answers `VERSION_CONFLICT`.
    pub expected_version: i64,
    pub sku: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<MoneyInput>,
    /// `DRAFT` or `ACTIVE`.
    pub status: Option<Status>,
    pub categories: Option<Vec<String>>,
    pub images: Option<Vec<String>>,
}

/// Which product, at which version.
#[derive(InputObject)]
pub struct ProductVersionInput {
    pub id: ID,
    pub expected_version: i64,
}

#[derive(InputObject)]
pub struct AdjustStockInput {
    pub id: ID,
    /// Units to add (negative: to remove); stock never goes below zero.
    pub delta: i64,
    /// Why, for the record (a delivery, a stock take, breakage): 1 to 200 characters.
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct ProductPayload {
    pub product: Product,
}

fn raw(
    sku: Option<String>,
    name: Option<String>,
    description: Option<String>,
    price: Option<MoneyInput>,
    status: Option<Status>,
    categories: Option<Vec<String>>,
    images: Option<Vec<String>>,
) -> RawProduct {
    RawProduct { sku, name, description, price: price.map(|m| (m.amount, m.currency)), status, categories, images }
}

fn id_of(id: &ID) -> Result<Uuid, ApiError> {
    parse_uuid("id", id)
}

/// Commits `tx` with `event` in its outbox, and wakes the relay.
async fn commit(ctx: &Context<'_>, mut tx: Tx, event: Event) -> Result<(), ProductsError> {
    outbox::enqueue(&mut tx, &event).await?;
    tx.commit().await?;
    runtime(ctx).relay.poke();
    Ok(())
}

/// Why a conditional write on `id` matched nothing, read in the same transaction.
async fn explain(mut tx: Tx, id: Uuid, expected: i64, wanted: &'static str) -> ProductsError {
    let state = catalogue::state(&mut tx, id).await;
    let _ = tx.rollback().await;
    match state {
        Err(e) => e.into(),
        Ok(None) => ProductsError::NotFound,
        Ok(Some((current, _, _))) if current != expected => ProductsError::VersionConflict { current },
        Ok(Some((_, status, _))) => ProductsError::WrongStatus { status, wanted },
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Adds a product (a `DRAFT` unless `status` says `ACTIVE`). A taken SKU answers
    /// `CONFLICT` naming `sku`; bad fields answer `BAD_USER_INPUT`, each named in
    /// `extensions.fields`.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn create_product(&self, ctx: &Context<'_>, input: CreateProductInput) -> Result<ProductPayload, ApiError> {
        let raw = raw(
            Some(input.sku),
            Some(input.name),
            Some(input.description),
            Some(input.price),
            input.status,
            Some(input.categories),
            Some(input.images),
        );
        let (fields, initial) = match (Fields::parse(raw), stock(input.stock)) {
            (Ok(fields), Ok(initial)) => (fields, initial),
            (parsed, initial) => {
                let mut problems = parsed.err().unwrap_or_default();
                if let Err(message) = initial {
                    problems.add("stock", message);
                }
                return Err(ProductsError::from(problems).into());
            }
        };
        let new = NewProduct {
            sku: fields.sku.expect("sent"),
            name: fields.name.expect("sent"),
            description: fields.description.unwrap_or_default(),
            price: fields.price.expect("sent"),
            status: fields.status.unwrap_or(Status::Draft),
            categories: fields.categories.unwrap_or_default(),
            images: fields.images.unwrap_or_default(),
            stock: initial,
        };
        let mut tx = runtime(ctx).db.begin().await.map_err(ProductsError::from)?;
        let product = catalogue::insert(&mut tx, &new).await.map_err(ProductsError::from)?;
        commit(ctx, tx, events::created(&product)).await?;
        Ok(ProductPayload { product: tagged(ctx, product) })
    }

    /// Changes a product's catalogue fields if it is still at `expectedVersion`; otherwise
    /// `VERSION_CONFLICT` with `extensions.currentVersion`. An archived product is restored first.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn update_product(&self, ctx: &Context<'_>, input: UpdateProductInput) -> Result<ProductPayload, ApiError> {
        let id = id_of(&input.id)?;
        let fields = Fields::parse(raw(
            input.sku,
            input.name,
            input.description,
            input.price,
            input.status,
            input.categories,
            input.images,
        ))
        .map_err(ProductsError::from)?;
        let touched = fields.touched();
        if touched.is_empty() {
            let mut p = Problems::default();
            p.add("input", "Send at least one field to change.");
            return Err(ProductsError::from(p).into());
        }
        let mut tx = runtime(ctx).db.begin().await.map_err(ProductsError::from)?;
        let Some(product) =
            catalogue::update(&mut tx, id, input.expected_version, &fields).await.map_err(ProductsError::from)?
        else {
            return Err(explain(tx, id, input.expected_version, "restored first").await.into());
        };
        commit(ctx, tx, events::updated(&product, &touched)).await?;
        Ok(ProductPayload { product: tagged(ctx, product) })
    }

    /// Withdraws a product: it is no longer listed or orderable, and still resolves by id for
    /// the orders that point at it. This is how a product is deleted.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn archive_product(&self, ctx: &Context<'_>, input: ProductVersionInput) -> Result<ProductPayload, ApiError> {
        move_status(ctx, input, &[Status::Draft, Status::Active], Status::Archived, "DRAFT or ACTIVE").await
    }

    /// Puts an archived product back on sale (`ACTIVE`).
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn restore_product(&self, ctx: &Context<'_>, input: ProductVersionInput) -> Result<ProductPayload, ApiError> {
        move_status(ctx, input, &[Status::Archived], Status::Active, "ARCHIVED").await
    }

    /// Adds or removes units (a delivery, a stock take). Stock never goes below zero: removing
    /// more than there is answers `BAD_USER_INPUT` naming `delta`, with `extensions.stock`.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn adjust_stock(&self, ctx: &Context<'_>, input: AdjustStockInput) -> Result<ProductPayload, ApiError> {
        let id = id_of(&input.id)?;
        let mut p = Problems::default();
        let reason = input.reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > 200 || has_control(&reason, false) {
            p.add("reason", "Say why in 1 to 200 characters, on one line.");
        }
        if input.delta == 0 || input.delta.abs() > STOCK_MAX {
            p.add("delta", format!("Add or remove 1 to {STOCK_MAX} units."));
        }
        p.or(()).map_err(ProductsError::from)?;
        let mut tx = runtime(ctx).db.begin().await.map_err(ProductsError::from)?;
        let Some(product) =
            catalogue::adjust_stock(&mut tx, id, input.delta, STOCK_MAX).await.map_err(ProductsError::from)?
        else {
            let state = catalogue::state(&mut tx, id).await.map_err(ProductsError::from)?;
            tx.rollback().await.map_err(ProductsError::from)?;
            return Err(match state {
                None => ProductsError::NotFound,
                Some((_, _, stock)) => ProductsError::NotEnoughStock { stock },
            }
            .into());
        };
        let event = events::stock_changed(product.id, input.delta, &reason, (product.stock, product.reserved));
        commit(ctx, tx, event).await?;
        Ok(ProductPayload { product: tagged(ctx, product) })
    }
}

async fn move_status(
    ctx: &Context<'_>,
    input: ProductVersionInput,
    from: &[Status],
    to: Status,
    wanted: &'static str,
) -> Result<ProductPayload, ApiError> {
    let id = id_of(&input.id)?;
    let mut tx = runtime(ctx).db.begin().await.map_err(ProductsError::from)?;
    let Some(product) =
        catalogue::set_status(&mut tx, id, input.expected_version, from, to).await.map_err(ProductsError::from)?
    else {
        return Err(explain(tx, id, input.expected_version, wanted).await.into());
    };
    commit(ctx, tx, events::updated(&product, &["status"])).await?;
    Ok(ProductPayload { product: tagged(ctx, product) })
}
