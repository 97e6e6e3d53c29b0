import { useMutation } from "@apollo/client/react";
import { useState } from "react";
import { clear, formatMoney, setQuantity, useCart } from "../cart";
import { problem, shortages } from "../errors";
import { graphql } from "../gql";
import { ProblemNote } from "../parts/Problem";
import { Link, navigate } from "../route";
import { useSession } from "../session";

const PlaceOrder = graphql(`
  mutation PlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      order { id number status total { amount currency } }
    }
  }
`);

export function Cart() {
  const lines = useCart();
  const session = useSession();
  const [placeOrder, { loading, error }] = useMutation(PlaceOrder);
  // One key per cart as submitted: a retry of the same cart (a lost answer, a double click)
  // reuses it and places one order; a changed cart gets a new one.
  const [key, setKey] = useState(() => crypto.randomUUID());
  const newKey = () => setKey(crypto.randomUUID());

  if (lines.length === 0) {
    return (
      <section className="card narrow">
        <h1>Your cart is empty</h1>
        <Link to="/">Browse the catalogue</Link>
      </section>
    );
  }
  const currency = lines[0].price.currency;
  const total = lines.reduce((sum, l) => sum + l.price.amount * l.quantity, 0);

  return (
    <section className="card">
      <h1>Your cart</h1>
      <table>
        <tbody>
          {lines.map((l) => (
            <tr key={l.productId}>
              <td>{l.name}</td>
              <td>
                <input
                  type="number"
                  min={0}
                  aria-label={`Quantity of ${l.name}`}
                  value={l.quantity}
                  onChange={(e) => (setQuantity(l.productId, Number(e.target.value)), newKey())}
                />
              </td>
              <td>{formatMoney({ amount: l.price.amount * l.quantity, currency: l.price.currency })}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        Estimated total: <strong>{formatMoney({ amount: total, currency })}</strong>
      </p>
      <ProblemNote error={error} />
      {session.accessToken ? (
        <button
          type="button"
          disabled={loading}
          onClick={async () => {
            const items = lines.map((l) => ({ productId: l.productId, quantity: l.quantity }));
            const result = await placeOrder({ variables: { input: { items, idempotencyKey: key } } }).catch((e: unknown) => {
              // Sold out under us: keep what is left in the cart, so the person can order that.
              const left = shortages(problem(e));
              if (left.size > 0) {
                left.forEach((available, id) => setQuantity(id, available));
                newKey();
              }
              return null;
            });
            const order = result?.data?.placeOrder.order;
            if (order) {
              clear();
              newKey();
              navigate(`/orders/${order.id}`);
            }
          }}
        >
          {loading ? "Placing your order…" : "Place order"}
        </button>
      ) : (
        <p>
          <Link to="/signin">Sign in</Link> to place your order.
        </p>
      )}
    </section>
  );
}
