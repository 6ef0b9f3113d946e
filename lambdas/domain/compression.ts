// The codecs an export's part files may be compressed with, written once: what the configuration accepts,
// the key's extension, the object's content type and the name Snowflake's file format gives the codec.
// Snowflake loads CSV compressed with either (COMPRESSION = GZIP | ZSTD of CREATE FILE FORMAT).

export const CODECS = {
  gzip: {
    extension: '.gz',
    contentType: 'application/gzip',
    snowflake: 'GZIP',
    minLevel: 1,
    maxLevel: 9,
    defaultLevel: 6,
  },
  zstd: {
    extension: '.zst',
    contentType: 'application/zstd',
    snowflake: 'ZSTD',
    minLevel: 1,
    // Levels 20 to 22 ("ultra") need a window of up to 128 MiB per stream: not for a Lambda.
    maxLevel: 19,
    defaultLevel: 3,
  },
} as const;

export type CodecName = keyof typeof CODECS;
export const CODEC_NAMES = Object.keys(CODECS) as CodecName[];

/** A codec and its level, as `pipeline.compression` holds them once parsed. */
export interface Compression {
  readonly codec: CodecName;
  readonly level: number;
}

/**
 * The compression part files get when `pipeline.compression` is not set, where the runtime has zstd (the
 * Lambdas' Node 24): measured the cheapest in CPU per GB and the smallest in bytes per row of the codecs
 * and levels `npm run bench -- --suite codecs` compares (README, Performance › Compression).
 */
export const DEFAULT_COMPRESSION: Compression = { codec: 'zstd', level: 1 };

/** The default on a runtime without zstd (Node before 22.15): the former default, by the same rule. */
export const FALLBACK_COMPRESSION: Compression = { codec: 'gzip', level: 6 };

/** The compression an export uses: the setting when given, else the default this runtime can write. */
export function resolveCompression(setting: Compression | undefined, zstdAvailable: boolean): Compression {
  if (setting !== undefined) return setting;
  return zstdAvailable || DEFAULT_COMPRESSION.codec !== 'zstd' ? DEFAULT_COMPRESSION : FALLBACK_COMPRESSION;
}

/** The codec whose extension a part file's key ends with (`.csv.gz`, `.csv.zst`); undefined for another. */
export function codecOfKey(key: string): CodecName | undefined {
  return CODEC_NAMES.find((name) => key.endsWith(`.csv${CODECS[name].extension}`));
}
