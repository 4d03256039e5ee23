/**
 * Every page of an R2 listing, following its cursor to the end.
 *
 * @example for await (const page of listPages(bucket, { prefix: "telemetry/", delimiter: "/" })) use(page);
 */
export async function* listPages(bucket: R2Bucket, options: R2ListOptions): AsyncGenerator<R2Objects> {
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ ...options, ...(cursor ? { cursor } : {}) });
    yield page;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}

/**
 * Every object of an R2 listing (all its pages).
 *
 * @example const objects = await listAll(bucket, { prefix: "telemetry/logs/2025/12/21/14/" });
 */
export async function listAll(bucket: R2Bucket, options: R2ListOptions): Promise<R2Object[]> {
  const objects: R2Object[] = [];
  for await (const page of listPages(bucket, options)) objects.push(...page.objects);
  return objects;
}
