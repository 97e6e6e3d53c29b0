import { useQuery } from "@apollo/client/react";
import { formatMoney } from "../cart";
import { graphql } from "../gql";
import { ProblemNote } from "../parts/Problem";
import { Link } from "../route";

const MyOrders = graphql(`
  query MyOrders {
    myOrders(first: 20) {
      totalCount
      nodes { id number status createdAt total { amount currency } }
    }
  }
`);

export function Orders() {
  const { data, error } = useQuery(MyOrders, { fetchPolicy: "cache-and-network" });
  return (
    <section className="card">
      <h1>Your orders</h1>
      <ProblemNote error={error} />
      {data?.myOrders.totalCount === 0 && <p>No orders yet.</p>}
      <ul className="rows">
        {data?.myOrders.nodes.map((o) => (
          <li key={o.id}>
            <Link to={`/orders/${o.id}`}>{o.number}</Link> <span className={`status ${o.status}`}>{o.status}</span>{" "}
            {formatMoney(o.total)} <span className="muted">{new Date(o.createdAt).toLocaleString()}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
