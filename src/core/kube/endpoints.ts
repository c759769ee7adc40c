import {
  ApiException,
  HttpInfo,
  KubeConfig,
  type AuthenticationV1ApiCreateSelfSubjectReviewRequest,
  type AuthenticationV1TokenRequest,
  type AuthorizationV1ApiCreateSelfSubjectAccessReviewRequest,
  type AuthorizationV1ApiCreateSelfSubjectRulesReviewRequest,
  type Configuration,
  type CoreV1ApiCreateNamespacedSecretRequest,
  type CoreV1ApiCreateNamespacedServiceAccountTokenRequest,
  type CoreV1ApiDeleteNamespacedSecretRequest,
  type HttpMethod,
  type ResponseContext,
  type V1APIGroupList,
  type V1APIResourceList,
  type V1Secret,
  type V1SelfSubjectAccessReview,
  type V1SelfSubjectReview,
  type V1SelfSubjectRulesReview,
  type V1Status
} from '@kubernetes/client-node'
import { send } from './https-transport.js'

// The six endpoints the action calls, as client-node API classes: build them
// with `kc.makeApiClient(CoreV1Api)` like the generated ones, with the same
// method names and request objects; the second argument is the attempt's
// AbortSignal (see deadline.ts), which the generated ones would take as a
// middleware in their ConfigurationOptions. They run on client-node's own
// machinery (the configuration makeApiClient hands over: server,
// KubeConfig authentication, User-Agent middleware, ApiException), only
// without the generated classes, whose object serializer drags every
// Kubernetes model and API group into the bundle (0.9 of 2.5 MB) for six
// calls, and sent by https-transport.ts instead of undici (see there why).

type Query = Record<string, string | number | boolean | undefined>

/**
 * The one timestamp the action reads as a Date (a TokenRequest's expiry),
 * revived as the generated deserializer would; nothing else is read.
 */
function reviveExpiry(object: unknown): void {
  const status = (object as { status?: Record<string, unknown> } | null)?.status
  const value = status?.expirationTimestamp
  if (status && typeof value === 'string') {
    status.expirationTimestamp = new Date(value)
  }
}

/**
 * One request the way a generated client-node method makes it: JSON body,
 * the configured middleware's pre (makeApiClient's User-Agent), send
 * (authenticated by the KubeConfig, aborted by `signal`), its post, then
 * the data for 2xx or an ApiException (401 without a body, as generated).
 */
async function call<T>(
  configuration: Configuration,
  method: HttpMethod,
  path: string,
  query: Query,
  body: unknown,
  signal: AbortSignal
): Promise<HttpInfo<T>> {
  const context = configuration.baseServer.makeRequestContext(path, method)
  context.setHeaderParam('Accept', 'application/json, */*;q=0.8')
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) context.setQueryParam(name, String(value))
  }
  if (body !== undefined) {
    context.setHeaderParam('Content-Type', 'application/json')
    context.setBody(JSON.stringify(body))
  }
  const kc = configuration.authMethods.default
  if (!(kc instanceof KubeConfig)) {
    throw new Error('endpoints.ts API objects are made with kc.makeApiClient')
  }
  const middleware = configuration.middleware
  let request = context
  for (const m of middleware) request = await m.pre(request).toPromise()
  let response: ResponseContext = await send(kc, request, signal)
  for (const m of [...middleware].reverse()) {
    response = await m.post(response).toPromise()
  }
  const status = response.httpStatusCode
  if (status === 401) {
    throw new ApiException(status, 'Unauthorized', undefined, response.headers)
  }
  if (status < 200 || status > 299) {
    throw new ApiException(
      status,
      'Unknown API Status Code!',
      await response.getBodyAsAny(),
      response.headers
    )
  }
  const data = JSON.parse(await response.body.text()) as T
  reviveExpiry(data)
  return new HttpInfo(status, response.headers, response.body, data)
}

/**
 * One path segment, percent-encoded. '.', '..' and '' are refused whoever
 * the caller is: encodeURIComponent leaves dots alone, and the URL parser
 * then walks up the path ('secrets/..' is the namespace itself), so a name
 * such as '..' would turn a Secret delete into a Namespace delete.
 */
function segment(value: string): string {
  if (value === '' || value === '.' || value === '..') {
    throw new Error(
      `a Kubernetes API path segment may not be ${value === '' ? 'empty' : `'${value}'`}`
    )
  }
  return encodeURIComponent(value)
}

/** The CoreV1Api methods the action uses. */
export class CoreV1Api {
  private readonly configuration: Configuration

  constructor(configuration: Configuration) {
    this.configuration = configuration
  }

  async createNamespacedSecret(
    param: CoreV1ApiCreateNamespacedSecretRequest,
    signal: AbortSignal
  ): Promise<V1Secret> {
    const { namespace, body, ...query } = param
    const info = await call<V1Secret>(
      this.configuration,
      'POST',
      `/api/v1/namespaces/${segment(namespace)}/secrets`,
      query,
      body,
      signal
    )
    return info.data
  }

  async deleteNamespacedSecret(
    param: CoreV1ApiDeleteNamespacedSecretRequest,
    signal: AbortSignal
  ): Promise<V1Status> {
    const { name, namespace, body, ...query } = param
    const info = await call<V1Status>(
      this.configuration,
      'DELETE',
      `/api/v1/namespaces/${segment(namespace)}/secrets/${segment(name)}`,
      query,
      body,
      signal
    )
    return info.data
  }

  /** Discovery of the core group (`/api/v1`). */
  async getAPIResources(signal: AbortSignal): Promise<V1APIResourceList> {
    const info = await call<V1APIResourceList>(
      this.configuration,
      'GET',
      '/api/v1',
      {},
      undefined,
      signal
    )
    return info.data
  }

  createNamespacedServiceAccountTokenWithHttpInfo(
    param: CoreV1ApiCreateNamespacedServiceAccountTokenRequest,
    signal: AbortSignal
  ): Promise<HttpInfo<AuthenticationV1TokenRequest>> {
    const { name, namespace, body, ...query } = param
    return call<AuthenticationV1TokenRequest>(
      this.configuration,
      'POST',
      `/api/v1/namespaces/${segment(namespace)}/serviceaccounts/${segment(name)}/token`,
      query,
      body,
      signal
    )
  }
}

/** The AuthenticationV1Api method the action uses. */
export class AuthenticationV1Api {
  private readonly configuration: Configuration

  constructor(configuration: Configuration) {
    this.configuration = configuration
  }

  async createSelfSubjectReview(
    param: AuthenticationV1ApiCreateSelfSubjectReviewRequest,
    signal: AbortSignal
  ): Promise<V1SelfSubjectReview> {
    const { body, ...query } = param
    const info = await call<V1SelfSubjectReview>(
      this.configuration,
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      query,
      body,
      signal
    )
    return info.data
  }
}

/** The AuthorizationV1Api methods the action uses. */
export class AuthorizationV1Api {
  private readonly configuration: Configuration

  constructor(configuration: Configuration) {
    this.configuration = configuration
  }

  async createSelfSubjectAccessReview(
    param: AuthorizationV1ApiCreateSelfSubjectAccessReviewRequest,
    signal: AbortSignal
  ): Promise<V1SelfSubjectAccessReview> {
    const { body, ...query } = param
    const info = await call<V1SelfSubjectAccessReview>(
      this.configuration,
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      query,
      body,
      signal
    )
    return info.data
  }

  async createSelfSubjectRulesReview(
    param: AuthorizationV1ApiCreateSelfSubjectRulesReviewRequest,
    signal: AbortSignal
  ): Promise<V1SelfSubjectRulesReview> {
    const { body, ...query } = param
    const info = await call<V1SelfSubjectRulesReview>(
      this.configuration,
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
      query,
      body,
      signal
    )
    return info.data
  }
}

/** Discovery of the API groups (`/apis`), as ApisApi.getAPIVersions. */
export class ApisApi {
  private readonly configuration: Configuration

  constructor(configuration: Configuration) {
    this.configuration = configuration
  }

  async getAPIVersions(signal: AbortSignal): Promise<V1APIGroupList> {
    const info = await call<V1APIGroupList>(
      this.configuration,
      'GET',
      '/apis',
      {},
      undefined,
      signal
    )
    return info.data
  }
}

/** Discovery of one group version, as CustomObjectsApi.getAPIResources. */
export class CustomObjectsApi {
  private readonly configuration: Configuration

  constructor(configuration: Configuration) {
    this.configuration = configuration
  }

  async getAPIResources(
    param: { group: string; version: string },
    signal: AbortSignal
  ): Promise<V1APIResourceList> {
    const info = await call<V1APIResourceList>(
      this.configuration,
      'GET',
      `/apis/${segment(param.group)}/${segment(param.version)}`,
      {},
      undefined,
      signal
    )
    return info.data
  }
}
