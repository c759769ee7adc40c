import {
  ApiException,
  HttpInfo,
  KubeConfig,
  type AuthenticationV1ApiCreateSelfSubjectReviewRequest,
  type AuthenticationV1TokenRequest,
  type AuthorizationV1ApiCreateSelfSubjectAccessReviewRequest,
  type AuthorizationV1ApiCreateSelfSubjectRulesReviewRequest,
  type Configuration,
  type ConfigurationOptions,
  type CoreV1ApiCreateNamespacedSecretRequest,
  type CoreV1ApiCreateNamespacedServiceAccountTokenRequest,
  type CoreV1ApiDeleteNamespacedSecretRequest,
  type HttpMethod,
  type ObservableMiddleware,
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
// with `kc.makeApiClient(CoreV1Api)` exactly like the generated ones, with the
// same method signatures. They run on client-node's own machinery (the
// configuration makeApiClient hands over: server, KubeConfig authentication,
// User-Agent middleware, ApiException), only without the generated classes,
// whose object serializer drags every Kubernetes model and API group into
// the bundle (0.9 of 2.5 MB) for six calls, and sent by https-transport.ts
// instead of undici (see there why).

type Query = Record<string, string | number | boolean | undefined>

/** Call-time middleware joins the configured one as mergeConfiguration does. */
function middlewareFor(
  configuration: Configuration,
  options?: ConfigurationOptions
): ObservableMiddleware[] {
  const extra = options?.middleware
  if (!extra) return configuration.middleware
  switch (options.middlewareMergeStrategy ?? 'replace') {
    case 'append':
      return [...configuration.middleware, ...extra]
    case 'prepend':
      return [...extra, ...configuration.middleware]
    case 'replace':
      return extra
    default:
      throw new Error(
        `Unrecognized middleware merge strategy '${String(options.middlewareMergeStrategy)}'`
      )
  }
}

/** Timestamps the generated deserializer turns into Dates (the fields our types read as Date). */
function reviveDates(object: unknown): void {
  if (!object || typeof object !== 'object') return
  const { metadata, status } = object as {
    metadata?: Record<string, unknown>
    status?: Record<string, unknown>
  }
  for (const [holder, key] of [
    [metadata, 'creationTimestamp'],
    [metadata, 'deletionTimestamp'],
    [status, 'expirationTimestamp']
  ] as const) {
    const value = holder?.[key]
    if (holder && typeof value === 'string') holder[key] = new Date(value)
  }
  const fields = metadata?.managedFields
  if (Array.isArray(fields)) {
    for (const field of fields as Record<string, unknown>[]) {
      if (typeof field.time === 'string') field.time = new Date(field.time)
    }
  }
}

/**
 * One request the way a generated client-node method makes it: JSON body,
 * middleware pre, send (authenticated by the KubeConfig), middleware post
 * (in reverse), then the data for 2xx or an ApiException (401 without a
 * body, as generated). Call-time options may add middleware or change the
 * server; authentication always comes from the KubeConfig.
 */
async function call<T>(
  configuration: Configuration,
  method: HttpMethod,
  path: string,
  query: Query,
  body: unknown,
  options?: ConfigurationOptions
): Promise<HttpInfo<T>> {
  const server = options?.baseServer ?? configuration.baseServer
  const context = server.makeRequestContext(path, method)
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
  const middleware = middlewareFor(configuration, options)
  let request = context
  for (const m of middleware) request = await m.pre(request).toPromise()
  let response: ResponseContext = await send(kc, request)
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
  reviveDates(data)
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
    options?: ConfigurationOptions
  ): Promise<V1Secret> {
    const { namespace, body, ...query } = param
    const info = await call<V1Secret>(
      this.configuration,
      'POST',
      `/api/v1/namespaces/${segment(namespace)}/secrets`,
      query,
      body,
      options
    )
    return info.data
  }

  async deleteNamespacedSecret(
    param: CoreV1ApiDeleteNamespacedSecretRequest,
    options?: ConfigurationOptions
  ): Promise<V1Status> {
    const { name, namespace, body, ...query } = param
    const info = await call<V1Status>(
      this.configuration,
      'DELETE',
      `/api/v1/namespaces/${segment(namespace)}/secrets/${segment(name)}`,
      query,
      body,
      options
    )
    return info.data
  }

  /** Discovery of the core group (`/api/v1`). */
  async getAPIResources(
    options?: ConfigurationOptions
  ): Promise<V1APIResourceList> {
    const info = await call<V1APIResourceList>(
      this.configuration,
      'GET',
      '/api/v1',
      {},
      undefined,
      options
    )
    return info.data
  }

  createNamespacedServiceAccountTokenWithHttpInfo(
    param: CoreV1ApiCreateNamespacedServiceAccountTokenRequest,
    options?: ConfigurationOptions
  ): Promise<HttpInfo<AuthenticationV1TokenRequest>> {
    const { name, namespace, body, ...query } = param
    return call<AuthenticationV1TokenRequest>(
      this.configuration,
      'POST',
      `/api/v1/namespaces/${segment(namespace)}/serviceaccounts/${segment(name)}/token`,
      query,
      body,
      options
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
    options?: ConfigurationOptions
  ): Promise<V1SelfSubjectReview> {
    const { body, ...query } = param
    const info = await call<V1SelfSubjectReview>(
      this.configuration,
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      query,
      body,
      options
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
    options?: ConfigurationOptions
  ): Promise<V1SelfSubjectAccessReview> {
    const { body, ...query } = param
    const info = await call<V1SelfSubjectAccessReview>(
      this.configuration,
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      query,
      body,
      options
    )
    return info.data
  }

  async createSelfSubjectRulesReview(
    param: AuthorizationV1ApiCreateSelfSubjectRulesReviewRequest,
    options?: ConfigurationOptions
  ): Promise<V1SelfSubjectRulesReview> {
    const { body, ...query } = param
    const info = await call<V1SelfSubjectRulesReview>(
      this.configuration,
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
      query,
      body,
      options
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

  async getAPIVersions(
    options?: ConfigurationOptions
  ): Promise<V1APIGroupList> {
    const info = await call<V1APIGroupList>(
      this.configuration,
      'GET',
      '/apis',
      {},
      undefined,
      options
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
    options?: ConfigurationOptions
  ): Promise<V1APIResourceList> {
    const info = await call<V1APIResourceList>(
      this.configuration,
      'GET',
      `/apis/${segment(param.group)}/${segment(param.version)}`,
      {},
      undefined,
      options
    )
    return info.data
  }
}
