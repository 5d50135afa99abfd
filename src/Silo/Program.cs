using HomaBone.Hosting;

// A silo process: the grains and the record store, with /health/* and /metrics on the HTTP port. The
// public gRPC API runs in HomaBone.Gateway (HomaBone:Mode=Gateway) as an Orleans client of this silo.
var builder = WebApplication.CreateBuilder(args);
var options = builder.Configuration.ReadHomaBoneOptions();
builder.ConfigureHomaBoneEndpoints(options, includeGrpc: false);
builder.AddHomaBoneServiceDefaults();
builder.AddHomaBoneSilo(options);

var app = builder.Build();
app.MapHomaBoneHealth();
app.Run();
