import { useEffect, useState } from "react";
import { useApolloClient, useMutation } from "@apollo/client/react";
import { useCart } from "./cart";
import { graphql } from "./gql";
import { Account } from "./pages/Account";
import { Cart } from "./pages/Cart";
import { Catalogue } from "./pages/Catalogue";
import { Order } from "./pages/Order";
import { Orders } from "./pages/Orders";
import { Security } from "./pages/Security";
import { SignIn } from "./pages/SignIn";
import { SignUp } from "./pages/SignUp";
import { Verify } from "./pages/Verify";
import { Toasts } from "./parts/Toasts";
import { Link, navigate, usePath } from "./route";
import { hasRefreshToken, refresh, signOut, useSession } from "./session";

const Logout = graphql(`
  mutation Logout {
    logout { revoked }
  }
`);

/** Pages that need a signed-in user send anyone else to sign in. */
const PRIVATE = [/^\/orders/, /^\/account/, /^\/security/];

export function App() {
  const path = usePath();
  const session = useSession();
  const cart = useCart();
  const client = useApolloClient();
  const [logout] = useMutation(Logout);
  // A reload keeps the refresh token only: trade it for an access token before showing pages.
  const [ready, setReady] = useState(() => !hasRefreshToken());
  useEffect(() => {
    if (!ready) void refresh().finally(() => setReady(true));
  }, [ready]);

  const signedIn = session.accessToken !== null;
  useEffect(() => {
    if (ready && !signedIn && PRIVATE.some((p) => p.test(path))) navigate("/signin");
  }, [ready, signedIn, path]);
  if (!ready) return <p className="muted">Loading…</p>;

  const orderMatch = path.match(/^\/orders\/([0-9a-f-]+)$/i);
  let page;
  if (path === "/signup") page = <SignUp />;
  else if (path === "/signin") page = <SignIn />;
  else if (path === "/verify") page = <Verify />;
  else if (path === "/cart") page = <Cart />;
  else if (orderMatch) page = <Order id={orderMatch[1]} />;
  else if (path === "/orders") page = <Orders />;
  else if (path === "/account") page = <Account />;
  else if (path === "/security") page = <Security />;
  else page = <Catalogue />;

  const count = cart.reduce((n, l) => n + l.quantity, 0);
  return (
    <>
      <header>
        <Link to="/" className="brand">
          Tessera shop
        </Link>
        <nav>
          <Link to="/">Catalogue</Link>
          <Link to="/cart">Cart{count > 0 ? ` (${count})` : ""}</Link>
          {signedIn ? (
            <>
              <Link to="/orders">Orders</Link>
              <Link to="/account">Account</Link>
              <Link to="/security">Security</Link>
              <button
                type="button"
                className="link"
                onClick={async () => {
                  await logout().catch(() => {});
                  signOut();
                  await client.clearStore();
                  navigate("/");
                }}
              >
                Sign out
              </button>
            </>
          ) : (
            <>
              <Link to="/signin">Sign in</Link>
              <Link to="/signup">Create account</Link>
            </>
          )}
        </nav>
      </header>
      <main>{page}</main>
      {/* One subscription per signed-in session; a new token restarts the socket under it. */}
      {signedIn && <Toasts />}
    </>
  );
}
