using System.Diagnostics;
using StackExchange.Redis;

namespace Coordination;

/// <summary>A session as the migration source had it (step 1 of a move): the import's arguments and what its removal checks.</summary>
/// <param name="Id">The session id.</param>
/// <param name="Random">The id's random part.</param>
/// <param name="Tag">The id's slot tag.</param>
/// <param name="UserId">The session's user (field u).</param>
/// <param name="Arguments">The id, then the source's hash as field, value pairs (session_import.lua's ARGV).</param>
/// <param name="Version">The exported version (field v): the source's copy is removed only while it still has it.</param>
/// <param name="SourceIndex">The source index whose entry goes with the source's copy.</param>
/// <param name="StartedTimestamp">When the export was sent (<see cref="Stopwatch.GetTimestamp"/>): an old export is read again.</param>
internal sealed record SessionExport(string Id, string Random, string Tag, string UserId, RedisValue Version, RedisValue[] Arguments, string SourceIndex, long StartedTimestamp);
