var builder = DistributedApplication.CreateBuilder(args);
builder.AddProject<Projects.Coordination_Api>("api");
builder.AddProject<Projects.Coordination_Worker>("worker");
builder.Build().Run();
