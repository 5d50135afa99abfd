using HomaBone.Gateway;
using HomaBone.Hosting;

var builder = WebApplication.CreateBuilder(args);
var options = builder.Configuration.ReadHomaBoneOptions();
var mode = builder.Configuration.GetValue("HomaBone:Mode", HostMode.CoHosted);

builder.ConfigureHomaBoneEndpoints(options, includeGrpc: true);
builder.AddHomaBoneServiceDefaults();
if (mode == HostMode.Gateway)
{
    builder.AddHomaBoneOrleansClient(options);
}
else
{
    builder.AddHomaBoneSilo(options);
}

builder.AddHomaBoneGateway(options);

var app = builder.Build();
app.MapHomaBoneHealth();
app.MapHomaBoneGateway();
app.Run();
