import { useQuery } from "@apollo/client/react";
import { useDeferredValue, useState } from "react";
import { graphql } from "../gql";
import type { ProductSort } from "../gql/graphql";
import { add, formatMoney } from "../cart";
import { ProblemNote } from "../parts/Problem";

const Products = graphql(`
  query Catalogue($first: Int, $after: String, $filter: ProductFilter, $sort: ProductSort) {
    products(first: $first, after: $after, filter: $filter, sort: $sort) {
      totalCount
      edges {
        cursor
        node { id sku name description price { amount currency } stock categories images }
      }
      pageInfo { endCursor hasNextPage }
    }
    categories { name productCount }
  }
`);

const SORTS: Array<[ProductSort, string]> = [
  ["RELEVANCE", "Best match"],
  ["NEWEST", "Newest"],
  ["PRICE_ASC", "Price: low to high"],
  ["PRICE_DESC", "Price: high to low"],
  ["NAME", "Name"],
];

export function Catalogue() {
  const [search, setSearch] = useState("");
  const [category, setCategory] = useState("");
  const [inStock, setInStock] = useState(false);
  const [sort, setSort] = useState<ProductSort>("RELEVANCE");
  const [pages, setPages] = useState<Array<string | null>>([null]);
  // Typing does not send a query per key press; React waits until it is idle.
  const typed = useDeferredValue(search.trim());
  const after = pages[pages.length - 1];
  const filter = { search: typed || null, category: category || null, inStock };
  const { data, previousData, loading, error } = useQuery(Products, { variables: { first: 12, after, filter, sort } });
  const shown = data ?? previousData;
  const reset = () => setPages([null]);

  return (
    <section>
      <div className="filters" role="search">
        <input
          name="search"
          type="search"
          placeholder="Search the catalogue"
          aria-label="Search"
          value={search}
          onChange={(e) => {
            setSearch(e.target.value);
            reset();
          }}
        />
        <select aria-label="Category" name="category" value={category} onChange={(e) => (setCategory(e.target.value), reset())}>
          <option value="">All categories</option>
          {shown?.categories.map((c) => (
            <option key={c.name} value={c.name}>
              {c.name} ({c.productCount})
            </option>
          ))}
        </select>
        <select aria-label="Sort" name="sort" value={sort} onChange={(e) => (setSort(e.target.value as ProductSort), reset())}>
          {SORTS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        <label className="inline">
          <input type="checkbox" name="inStock" checked={inStock} onChange={(e) => (setInStock(e.target.checked), reset())} /> In stock
        </label>
      </div>
      <ProblemNote error={error} />
      <p className="muted" aria-live="polite">
        {loading && !shown ? "Loading…" : `${shown?.products.totalCount ?? 0} ${shown?.products.totalCount === 1 ? "product" : "products"}`}
      </p>
      <ul className="grid">
        {shown?.products.edges.map(({ node: p }) => (
          <li key={p.id} className="product card" data-sku={p.sku}>
            <h3>{p.name}</h3>
            <p className="muted">{p.description}</p>
            <p>
              <strong>{formatMoney(p.price)}</strong> · {p.stock > 0 ? `${p.stock} in stock` : "Sold out"}
            </p>
            <button
              type="button"
              disabled={p.stock === 0}
              onClick={() => add({ productId: p.id, name: p.name, price: p.price })}
              aria-label={`Add ${p.name} to cart`}
            >
              Add to cart
            </button>
          </li>
        ))}
      </ul>
      <div className="pager">
        <button type="button" disabled={pages.length === 1} onClick={() => setPages(pages.slice(0, -1))}>
          Previous
        </button>
        <button
          type="button"
          disabled={!shown?.products.pageInfo.hasNextPage}
          onClick={() => setPages([...pages, shown?.products.pageInfo.endCursor ?? null])}
        >
          Next
        </button>
      </div>
    </section>
  );
}
