import { useMutation, useQuery } from "@apollo/client/react";
import { formatMoney } from "../cart";
import { graphql } from "../gql";
import { ProblemNote } from "../parts/Problem";

const OrderDetail = graphql(`
  query OrderDetail($id: ID!) {
    order(id: $id) {
      id
      number
      status
      version
      createdAt
      total { amount currency }
      items { name quantity unitPrice { amount currency } lineTotal { amount currency } }
      history { status at reason }
    }
  }
`);

const CancelOrder = graphql(`
  mutation CancelOrder($input: CancelOrderInput!) {
    cancelOrder(input: $input) { order { id status version history { status at reason } } }
  }
`);

/** One order. Its status stays current without polling: each `notificationAdded` about it
 * carries `order { id status }`, which Apollo's cache merges into this order (see Toasts). */
export function Order({ id }: { id: string }) {
  const { data, error, loading } = useQuery(OrderDetail, { variables: { id } });
  const [cancel, cancelling] = useMutation(CancelOrder);
  const order = data?.order;
  if (loading && !order) return <p>Loading…</p>;
  if (!order) return error ? <ProblemNote error={error} /> : <p>No such order.</p>;
  return (
    <section className="card">
      <h1>
        Order {order.number}{" "}
        <span className={`status ${order.status}`} data-testid="order-status">
          {order.status}
        </span>
      </h1>
      <table>
        <tbody>
          {order.items.map((i) => (
            <tr key={i.name}>
              <td>{i.name}</td>
              <td>× {i.quantity}</td>
              <td>{formatMoney(i.lineTotal)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        Total: <strong>{formatMoney(order.total)}</strong>
      </p>
      <h2>History</h2>
      <ol className="rows">
        {order.history.map((h) => (
          <li key={`${h.status}-${h.at}`}>
            {h.status} <span className="muted">{new Date(h.at).toLocaleString()}</span> {h.reason}
          </li>
        ))}
      </ol>
      <ProblemNote error={cancelling.error} />
      {(order.status === "PENDING" || order.status === "CONFIRMED") && (
        <button
          type="button"
          className="secondary"
          disabled={cancelling.loading}
          onClick={() => cancel({ variables: { input: { id: order.id, reason: "Cancelled in the shop" } } }).catch(() => {})}
        >
          Cancel order
        </button>
      )}
    </section>
  );
}
