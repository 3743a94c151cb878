import { ListObjectsV2Command, type _Object, type S3Client } from '@aws-sdk/client-s3';

/** What a listing walks: a prefix of a bucket, from its start or after `StartAfter` (a whole key). */
export interface ListingQuery {
  Bucket: string;
  Prefix: string;
  StartAfter?: string;
  /** Keys per request (S3 answers at most 1,000; unset, S3's own 1,000). */
  MaxKeys?: number;
}

export interface ListingPage {
  objects: _Object[];
  /** S3 has more keys after this page. */
  truncated: boolean;
}

/**
 * The bucket's listings, one ListObjectsV2 request per page: the first after `StartAfter`, each next one from the
 * previous page's continuation token, until S3 says the prefix ends. The only place a listing is paged. A request is
 * sent only when the caller asks for its page, so a caller that stops (breaks out of `for await`) sends no more.
 */
export async function* listPages(s3: S3Client, query: ListingQuery): AsyncGenerator<ListingPage> {
  const { Bucket, Prefix, StartAfter, MaxKeys } = query;
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket,
        Prefix,
        ...(MaxKeys === undefined ? {} : { MaxKeys: Math.min(MaxKeys, 1000) }),
        ...(token ? { ContinuationToken: token } : StartAfter ? { StartAfter } : {}),
      }),
    );
    const truncated = Boolean(page.IsTruncated);
    yield { objects: page.Contents ?? [], truncated };
    token = truncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** The first page of a listing: one request. */
export async function firstPage<T>(pages: AsyncIterable<T>): Promise<T> {
  for await (const page of pages) return page;
  throw new Error('a listing has at least one page');
}
