//! `products` (a filtered, sorted, searchable Relay connection) and `categories`.

use async_graphql::{
    Context, InputObject, Object, SimpleObject,
    connection::{Connection, Edge},
};
use tessera_kit::{ApiError, db::Db, identity::viewer, paging::MAX_PAGE};

use super::{Product, product::tagged, runtime};
use crate::{
    domain::{
        Problems, Status,
        listing::{Cursor, Filter, Key, Order, Sort},
        money::AMOUNT_MAX,
        product::category,
        search::Terms,
    },
    error::ProductsError,
    store::{self, listing},
};

/// What a product list holds. Every condition is optional; together they all apply.
#[derive(InputObject, Default)]
pub struct ProductFilter {
    /// Words to find in the name or description (each as a prefix: `foun` finds `fountain`).
    pub search: Option<String>,
    /// A category slug.
    pub category: Option<String>,
    /// Lowest price, in minor units.
    pub min_price: Option<i64>,
    /// Highest price, in minor units.
    pub max_price: Option<i64>,
    /// Only products with stock to order.
    #[graphql(default)]
    pub in_stock: bool,
    /// Admins only: the statuses to list (all when absent). Customers see `ACTIVE` products.
    pub status: Option<Vec<Status>>,
}

impl ProductFilter {
    fn parse(self, admin: bool) -> Result<Filter, ProductsError> {
        let mut p = Problems::default();
        let search = self.search.and_then(|s| p.check("filter.search", Terms::parse(&s)));
        let category = self.category.and_then(|c| p.check("filter.category", category(&c)));
        for (field, price) in [("filter.minPrice", self.min_price), ("filter.maxPrice", self.max_price)] {
            if price.is_some_and(|v| !(0..=AMOUNT_MAX).contains(&v)) {
                p.add(field, format!("Prices are 0 to {AMOUNT_MAX} minor units."));
            }
        }
        if let (Some(min), Some(max)) = (self.min_price, self.max_price)
            && min > max
        {
            p.add("filter.maxPrice", "The highest price is below the lowest: swap them.");
        }
        let statuses = match self.status {
            None if admin => Vec::new(),
            Some(statuses) if admin => statuses,
            None => vec![Status::Active],
            Some(statuses) if statuses == [Status::Active] => statuses,
            Some(_) => {
                p.add("filter.status", "Only admins can list drafts and archived products; leave status out.");
                Vec::new()
            }
        };
        p.or(Filter {
            search,
            category,
            min_price: self.min_price,
            max_price: self.max_price,
            in_stock: self.in_stock,
            statuses,
        })
        .map_err(ProductsError::from)
    }
}

/// What every page of a list has in common; `totalCount` is counted only when asked for.
pub struct ProductTotal {
    db: Db,
    filter: Filter,
}

#[Object]
impl ProductTotal {
    /// How many products the list holds, on every page.
    async fn total_count(&self) -> Result<i64, ApiError> {
        Ok(listing::count(&self.db, &self.filter).await.map_err(ProductsError::from)?)
    }
}

pub type Products = Connection<String, Product, ProductTotal>;

/// A category and how many products on sale it holds.
#[derive(SimpleObject)]
pub struct Category {
    /// The slug products carry in `categories`.
    pub name: String,
    pub product_count: i64,
}

fn cursor_of(order: Order, p: &store::Product) -> Cursor {
    let key = match order {
        Order::Newest => Key::Id,
        Order::Rank => Key::Int(p.rank),
        Order::PriceAsc | Order::PriceDesc => Key::Int(p.price_cents),
        Order::Name => Key::Text(p.name_key.clone()),
    };
    Cursor { order, key, id: p.id }
}

#[derive(Default)]
pub struct ListingQuery;

#[Object]
impl ListingQuery {
    /// Products, a page at a time (`first` up to 100, 20 by default; `after` a cursor from the
    /// last page). Cursors stay valid while products are added: no product is repeated or
    /// skipped. Customers see products on sale only.
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ProductFilter>,
        #[graphql(desc = "`RELEVANCE` when left out: best match first when searching, else newest first.")]
        sort: Option<Sort>,
    ) -> Result<Products, ApiError> {
        // Both optional and nullable rather than defaulted: a client's unset variable
        // (`sort: $sort`) arrives as null, which a defaulted non-null argument would refuse.
        let (filter, sort) = (filter.unwrap_or_default(), sort.unwrap_or(Sort::Relevance));
        let first = usize::try_from(first.unwrap_or(20))
            .ok()
            .filter(|n| *n <= MAX_PAGE)
            .ok_or_else(|| ApiError::bad_input("first", format!("Ask for 0 to {MAX_PAGE} products a page.")))?;
        let filter = filter.parse(viewer(ctx).is_admin())?;
        let order = Order::of(sort, filter.search.is_some());
        let after =
            after.map(|c| Cursor::decode(&c, order).map_err(|m| ApiError::bad_input("after", m))).transpose()?;
        let db = runtime(ctx).db.clone();
        let mut rows =
            listing::page(&db, &filter, order, after.as_ref(), first as i64 + 1).await.map_err(ProductsError::from)?;
        let has_next = rows.len() > first;
        rows.truncate(first);
        let mut connection = Connection::with_additional_fields(after.is_some(), has_next, ProductTotal { db, filter });
        connection.edges.extend(rows.into_iter().map(|p| Edge::new(cursor_of(order, &p).encode(), tagged(ctx, p))));
        Ok(connection)
    }

    /// Every category that holds a product on sale, with how many, by name.
    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<Category>, ApiError> {
        let rows = listing::categories(&runtime(ctx).db).await.map_err(ProductsError::from)?;
        Ok(rows.into_iter().map(|(name, product_count)| Category { name, product_count }).collect())
    }
}
