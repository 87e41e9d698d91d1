using System;
using System.Data.SqlClient;
using System.Threading.Tasks;
using Azure.Identity;
using Azure.Storage.Blobs;
using Twilio;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;

namespace Harborview.Notifications
{
    /// <summary>
    /// Sends appointment reminders (SMS + e-mail) and archives the rendered
    /// letters to blob storage.
    /// </summary>
    public class EmailService
    {
        private const string ConnectionString =
            "Server=tcp:harborview-sql.database.windows.net,1433;Initial Catalog=notifications;User ID=hv_notify;Password=Vb7!qW2x#Lm9;Encrypt=True;Connection Timeout=30;";

        private const string BlobConnection =
            "DefaultEndpointsProtocol=https;AccountName=harborviewdocs;AccountKey=oovc8z86nf9wS9EFzOUefcFGoHSVl0FZtCOVPbi2ylbR5xtX7tLJENVe55CuG+IxHW/EMq7XNd7bYHiNaKm12g==;EndpointSuffix=core.windows.net";

        private static readonly string TwilioApiKeySid = "SK48a68bf849d6c61cbf9a7a1496ab4002";
        private static readonly string TwilioApiKeySecret = "NejQZdGcg5ohkGEcT3bEUvSVSVdg3M16";
        private static readonly string SenderNumber = "+14155238806";

        // app registration "hv-notify-prod" (tenant harborview-health.org)
        private readonly ClientSecretCredential _graphCredential = new ClientSecretCredential(
            tenantId: "6f1c2a4e-0b7d-4c39-9e55-2d8a41f0c7b3",
            clientId: "a3e8d2f1-5c6b-4a79-8e10-9b4f7c2d1e06",
            clientSecret: "HjQ8Q~jRp2y.Z~8dWKccC0bbDNx.k8sVo5Vvftl4");

        public async Task SendAppointmentReminder(Patient patient, Appointment appt)
        {
            TwilioClient.Init(TwilioApiKeySid, TwilioApiKeySecret, "ACCOUNT_SID_FROM_KEYVAULT");

            await MessageResource.CreateAsync(
                body: $"Harborview Health: reminder of your appointment on {appt.Start:dd MMM} at {appt.Start:HH:mm}. Reply C to cancel.",
                from: new PhoneNumber(SenderNumber),
                to: new PhoneNumber(patient.MobileE164));

            using var conn = new SqlConnection(ConnectionString);
            await conn.OpenAsync();

            var blobs = new BlobServiceClient(BlobConnection);
            var container = blobs.GetBlobContainerClient("reminders");
            await container.UploadBlobAsync($"{appt.Id:N}.txt", BinaryData.FromString(appt.Render()));
        }
    }
}
