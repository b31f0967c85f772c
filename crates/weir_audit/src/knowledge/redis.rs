//! Redis clients: the synchronous `redis.Redis` blocks; `redis.asyncio` is awaited.
//! <https://redis.readthedocs.io/en/stable/examples/asyncio_examples.html>

use super::{Effect::Blocking, IoKind::Database, ObjKind::RedisClient, Pack, ctor, method};

const REDIS: &[super::ObjKind] = &[RedisClient];
const IO: super::Effect = Blocking(Database);

pub const PACK: Pack = Pack {
    name: "redis",
    roots: &["redis"],
    funcs: &[
        ctor("redis.Redis", RedisClient),
        ctor("redis.StrictRedis", RedisClient),
        ctor("redis.from_url", RedisClient),
        ctor("redis.Redis.from_url", RedisClient),
        ctor("redis.client.Redis", RedisClient),
    ],
    types: &[
        ("redis.Redis", RedisClient),
        ("redis.client.Redis", RedisClient),
    ],
    methods: &[
        method(REDIS, "get", IO),
        method(REDIS, "set", IO),
        method(REDIS, "setex", IO),
        method(REDIS, "mget", IO),
        method(REDIS, "mset", IO),
        method(REDIS, "delete", IO),
        method(REDIS, "exists", IO),
        method(REDIS, "expire", IO),
        method(REDIS, "incr", IO),
        method(REDIS, "decr", IO),
        method(REDIS, "hget", IO),
        method(REDIS, "hset", IO),
        method(REDIS, "hgetall", IO),
        method(REDIS, "lpush", IO),
        method(REDIS, "rpush", IO),
        method(REDIS, "lpop", IO),
        method(REDIS, "rpop", IO),
        method(REDIS, "blpop", IO),
        method(REDIS, "brpop", IO),
        method(REDIS, "sadd", IO),
        method(REDIS, "smembers", IO),
        method(REDIS, "zadd", IO),
        method(REDIS, "zrange", IO),
        method(REDIS, "publish", IO),
        method(REDIS, "keys", IO),
        method(REDIS, "scan", IO),
        method(REDIS, "ping", IO),
    ],
    hints: &[],
    attributes: &[],
};
