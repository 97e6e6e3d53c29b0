/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation Logout {\n    logout { revoked }\n  }\n": typeof types.LogoutDocument,
    "\n  query Me {\n    me {\n      id\n      username\n      email\n      emailVerified\n      profile { displayName bio timezone version }\n      preferences {\n        version\n        theme\n        language\n        orderUpdates { email inApp sms }\n        marketing { email inApp sms }\n      }\n    }\n  }\n": typeof types.MeDocument,
    "\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) { user { id profile { displayName bio timezone version } } }\n  }\n": typeof types.UpdateProfileDocument,
    "\n  mutation UpdatePreferences($input: UpdatePreferencesInput!) {\n    updatePreferences(input: $input) {\n      preferences { version theme language orderUpdates { email inApp sms } marketing { email inApp sms } }\n    }\n  }\n": typeof types.UpdatePreferencesDocument,
    "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      order { id number status total { amount currency } }\n    }\n  }\n": typeof types.PlaceOrderDocument,
    "\n  query Catalogue($first: Int, $after: String, $filter: ProductFilter, $sort: ProductSort) {\n    products(first: $first, after: $after, filter: $filter, sort: $sort) {\n      totalCount\n      edges {\n        cursor\n        node { id sku name description price { amount currency } stock categories images }\n      }\n      pageInfo { endCursor hasNextPage }\n    }\n    categories { name productCount }\n  }\n": typeof types.CatalogueDocument,
    "\n  mutation EnrollTotp {\n    enrollTotp { otpauthUri secret }\n  }\n": typeof types.EnrollTotpDocument,
    "\n  mutation ConfirmTotp($input: ConfirmTotpInput!) {\n    confirmTotp(input: $input) { recoveryCodes }\n  }\n": typeof types.ConfirmTotpDocument,
    "\n  mutation Reauthenticate($input: ReauthenticateInput!) {\n    reauthenticate(input: $input) { stepUpUntil }\n  }\n": typeof types.ReauthenticateDocument,
    "\n  query OrderDetail($id: ID!) {\n    order(id: $id) {\n      id\n      number\n      status\n      version\n      createdAt\n      total { amount currency }\n      items { name quantity unitPrice { amount currency } lineTotal { amount currency } }\n      history { status at reason }\n    }\n  }\n": typeof types.OrderDetailDocument,
    "\n  mutation CancelOrder($input: CancelOrderInput!) {\n    cancelOrder(input: $input) { order { id status version history { status at reason } } }\n  }\n": typeof types.CancelOrderDocument,
    "\n  query MyOrders {\n    myOrders(first: 20) {\n      totalCount\n      nodes { id number status createdAt total { amount currency } }\n    }\n  }\n": typeof types.MyOrdersDocument,
    "\n  query Sessions {\n    mySessions { id device ip createdAt lastUsedAt current }\n    me { id mfaEnabled }\n  }\n": typeof types.SessionsDocument,
    "\n  mutation RevokeSession($input: RevokeSessionInput!) {\n    revokeSession(input: $input) { revoked }\n  }\n": typeof types.RevokeSessionDocument,
    "\n  mutation LogoutAll {\n    logoutAll { revoked }\n  }\n": typeof types.LogoutAllDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      deviceToken\n      mfaRequired\n      mfaChallenge\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation VerifyMfa($input: VerifyMfaInput!) {\n    verifyMfa(input: $input) { accessToken refreshToken expiresAt deviceToken }\n  }\n": typeof types.VerifyMfaDocument,
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      verificationRequired\n      user { id username }\n    }\n  }\n": typeof types.RegisterDocument,
    "\n  mutation VerifyEmail($input: VerifyEmailInput!) {\n    verifyEmail(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      user { id }\n    }\n  }\n": typeof types.VerifyEmailDocument,
    "\n  mutation ResendVerification($input: ResendVerificationInput) {\n    resendVerification(input: $input) { sent }\n  }\n": typeof types.ResendVerificationDocument,
    "\n  subscription NotificationAdded {\n    notificationAdded {\n      id\n      kind\n      title\n      body\n      createdAt\n      order { id status }\n    }\n  }\n": typeof types.NotificationAddedDocument,
};
const documents: Documents = {
    "\n  mutation Logout {\n    logout { revoked }\n  }\n": types.LogoutDocument,
    "\n  query Me {\n    me {\n      id\n      username\n      email\n      emailVerified\n      profile { displayName bio timezone version }\n      preferences {\n        version\n        theme\n        language\n        orderUpdates { email inApp sms }\n        marketing { email inApp sms }\n      }\n    }\n  }\n": types.MeDocument,
    "\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) { user { id profile { displayName bio timezone version } } }\n  }\n": types.UpdateProfileDocument,
    "\n  mutation UpdatePreferences($input: UpdatePreferencesInput!) {\n    updatePreferences(input: $input) {\n      preferences { version theme language orderUpdates { email inApp sms } marketing { email inApp sms } }\n    }\n  }\n": types.UpdatePreferencesDocument,
    "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      order { id number status total { amount currency } }\n    }\n  }\n": types.PlaceOrderDocument,
    "\n  query Catalogue($first: Int, $after: String, $filter: ProductFilter, $sort: ProductSort) {\n    products(first: $first, after: $after, filter: $filter, sort: $sort) {\n      totalCount\n      edges {\n        cursor\n        node { id sku name description price { amount currency } stock categories images }\n      }\n      pageInfo { endCursor hasNextPage }\n    }\n    categories { name productCount }\n  }\n": types.CatalogueDocument,
    "\n  mutation EnrollTotp {\n    enrollTotp { otpauthUri secret }\n  }\n": types.EnrollTotpDocument,
    "\n  mutation ConfirmTotp($input: ConfirmTotpInput!) {\n    confirmTotp(input: $input) { recoveryCodes }\n  }\n": types.ConfirmTotpDocument,
    "\n  mutation Reauthenticate($input: ReauthenticateInput!) {\n    reauthenticate(input: $input) { stepUpUntil }\n  }\n": types.ReauthenticateDocument,
    "\n  query OrderDetail($id: ID!) {\n    order(id: $id) {\n      id\n      number\n      status\n      version\n      createdAt\n      total { amount currency }\n      items { name quantity unitPrice { amount currency } lineTotal { amount currency } }\n      history { status at reason }\n    }\n  }\n": types.OrderDetailDocument,
    "\n  mutation CancelOrder($input: CancelOrderInput!) {\n    cancelOrder(input: $input) { order { id status version history { status at reason } } }\n  }\n": types.CancelOrderDocument,
    "\n  query MyOrders {\n    myOrders(first: 20) {\n      totalCount\n      nodes { id number status createdAt total { amount currency } }\n    }\n  }\n": types.MyOrdersDocument,
    "\n  query Sessions {\n    mySessions { id device ip createdAt lastUsedAt current }\n    me { id mfaEnabled }\n  }\n": types.SessionsDocument,
    "\n  mutation RevokeSession($input: RevokeSessionInput!) {\n    revokeSession(input: $input) { revoked }\n  }\n": types.RevokeSessionDocument,
    "\n  mutation LogoutAll {\n    logoutAll { revoked }\n  }\n": types.LogoutAllDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      deviceToken\n      mfaRequired\n      mfaChallenge\n    }\n  }\n": types.LoginDocument,
    "\n  mutation VerifyMfa($input: VerifyMfaInput!) {\n    verifyMfa(input: $input) { accessToken refreshToken expiresAt deviceToken }\n  }\n": types.VerifyMfaDocument,
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      verificationRequired\n      user { id username }\n    }\n  }\n": types.RegisterDocument,
    "\n  mutation VerifyEmail($input: VerifyEmailInput!) {\n    verifyEmail(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      user { id }\n    }\n  }\n": types.VerifyEmailDocument,
    "\n  mutation ResendVerification($input: ResendVerificationInput) {\n    resendVerification(input: $input) { sent }\n  }\n": types.ResendVerificationDocument,
    "\n  subscription NotificationAdded {\n    notificationAdded {\n      id\n      kind\n      title\n      body\n      createdAt\n      order { id status }\n    }\n  }\n": types.NotificationAddedDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout {\n    logout { revoked }\n  }\n"): (typeof documents)["\n  mutation Logout {\n    logout { revoked }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      id\n      username\n      email\n      emailVerified\n      profile { displayName bio timezone version }\n      preferences {\n        version\n        theme\n        language\n        orderUpdates { email inApp sms }\n        marketing { email inApp sms }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Me {\n    me {\n      id\n      username\n      email\n      emailVerified\n      profile { displayName bio timezone version }\n      preferences {\n        version\n        theme\n        language\n        orderUpdates { email inApp sms }\n        marketing { email inApp sms }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) { user { id profile { displayName bio timezone version } } }\n  }\n"): (typeof documents)["\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) { user { id profile { displayName bio timezone version } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdatePreferences($input: UpdatePreferencesInput!) {\n    updatePreferences(input: $input) {\n      preferences { version theme language orderUpdates { email inApp sms } marketing { email inApp sms } }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdatePreferences($input: UpdatePreferencesInput!) {\n    updatePreferences(input: $input) {\n      preferences { version theme language orderUpdates { email inApp sms } marketing { email inApp sms } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      order { id number status total { amount currency } }\n    }\n  }\n"): (typeof documents)["\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      order { id number status total { amount currency } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Catalogue($first: Int, $after: String, $filter: ProductFilter, $sort: ProductSort) {\n    products(first: $first, after: $after, filter: $filter, sort: $sort) {\n      totalCount\n      edges {\n        cursor\n        node { id sku name description price { amount currency } stock categories images }\n      }\n      pageInfo { endCursor hasNextPage }\n    }\n    categories { name productCount }\n  }\n"): (typeof documents)["\n  query Catalogue($first: Int, $after: String, $filter: ProductFilter, $sort: ProductSort) {\n    products(first: $first, after: $after, filter: $filter, sort: $sort) {\n      totalCount\n      edges {\n        cursor\n        node { id sku name description price { amount currency } stock categories images }\n      }\n      pageInfo { endCursor hasNextPage }\n    }\n    categories { name productCount }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EnrollTotp {\n    enrollTotp { otpauthUri secret }\n  }\n"): (typeof documents)["\n  mutation EnrollTotp {\n    enrollTotp { otpauthUri secret }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConfirmTotp($input: ConfirmTotpInput!) {\n    confirmTotp(input: $input) { recoveryCodes }\n  }\n"): (typeof documents)["\n  mutation ConfirmTotp($input: ConfirmTotpInput!) {\n    confirmTotp(input: $input) { recoveryCodes }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Reauthenticate($input: ReauthenticateInput!) {\n    reauthenticate(input: $input) { stepUpUntil }\n  }\n"): (typeof documents)["\n  mutation Reauthenticate($input: ReauthenticateInput!) {\n    reauthenticate(input: $input) { stepUpUntil }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OrderDetail($id: ID!) {\n    order(id: $id) {\n      id\n      number\n      status\n      version\n      createdAt\n      total { amount currency }\n      items { name quantity unitPrice { amount currency } lineTotal { amount currency } }\n      history { status at reason }\n    }\n  }\n"): (typeof documents)["\n  query OrderDetail($id: ID!) {\n    order(id: $id) {\n      id\n      number\n      status\n      version\n      createdAt\n      total { amount currency }\n      items { name quantity unitPrice { amount currency } lineTotal { amount currency } }\n      history { status at reason }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelOrder($input: CancelOrderInput!) {\n    cancelOrder(input: $input) { order { id status version history { status at reason } } }\n  }\n"): (typeof documents)["\n  mutation CancelOrder($input: CancelOrderInput!) {\n    cancelOrder(input: $input) { order { id status version history { status at reason } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyOrders {\n    myOrders(first: 20) {\n      totalCount\n      nodes { id number status createdAt total { amount currency } }\n    }\n  }\n"): (typeof documents)["\n  query MyOrders {\n    myOrders(first: 20) {\n      totalCount\n      nodes { id number status createdAt total { amount currency } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Sessions {\n    mySessions { id device ip createdAt lastUsedAt current }\n    me { id mfaEnabled }\n  }\n"): (typeof documents)["\n  query Sessions {\n    mySessions { id device ip createdAt lastUsedAt current }\n    me { id mfaEnabled }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeSession($input: RevokeSessionInput!) {\n    revokeSession(input: $input) { revoked }\n  }\n"): (typeof documents)["\n  mutation RevokeSession($input: RevokeSessionInput!) {\n    revokeSession(input: $input) { revoked }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LogoutAll {\n    logoutAll { revoked }\n  }\n"): (typeof documents)["\n  mutation LogoutAll {\n    logoutAll { revoked }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      deviceToken\n      mfaRequired\n      mfaChallenge\n    }\n  }\n"): (typeof documents)["\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      deviceToken\n      mfaRequired\n      mfaChallenge\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyMfa($input: VerifyMfaInput!) {\n    verifyMfa(input: $input) { accessToken refreshToken expiresAt deviceToken }\n  }\n"): (typeof documents)["\n  mutation VerifyMfa($input: VerifyMfaInput!) {\n    verifyMfa(input: $input) { accessToken refreshToken expiresAt deviceToken }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      verificationRequired\n      user { id username }\n    }\n  }\n"): (typeof documents)["\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      verificationRequired\n      user { id username }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyEmail($input: VerifyEmailInput!) {\n    verifyEmail(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      user { id }\n    }\n  }\n"): (typeof documents)["\n  mutation VerifyEmail($input: VerifyEmailInput!) {\n    verifyEmail(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      user { id }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResendVerification($input: ResendVerificationInput) {\n    resendVerification(input: $input) { sent }\n  }\n"): (typeof documents)["\n  mutation ResendVerification($input: ResendVerificationInput) {\n    resendVerification(input: $input) { sent }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription NotificationAdded {\n    notificationAdded {\n      id\n      kind\n      title\n      body\n      createdAt\n      order { id status }\n    }\n  }\n"): (typeof documents)["\n  subscription NotificationAdded {\n    notificationAdded {\n      id\n      kind\n      title\n      body\n      createdAt\n      order { id status }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;